"""/api/v1/knowledge/proposals/: customer wordings proposed as similar questions, approved
or rejected by staff with one click."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from helpdesk.api.permissions import ReadOrAgent
from helpdesk.api.views import TenantReadOnlyViewSet
from knowledge import proposals
from knowledge.api.serializers import inline_choices
from knowledge.models import WordingProposal


class WordingProposalSerializer(serializers.ModelSerializer):
    reason = inline_choices(WordingProposal.Reason.choices)
    status = inline_choices(WordingProposal.Status.choices)
    entry_question = serializers.CharField(source="entry.question", read_only=True)

    class Meta:
        model = WordingProposal
        fields = [
            "id",
            "entry",
            "entry_question",
            "text",
            "reason",
            "status",
            "message",
            "proposed_by",
            "decided_by",
            "decided_at",
            "created_at",
        ]
        read_only_fields = fields


class ProposalFilterSerializer(serializers.Serializer):
    status = inline_choices(
        WordingProposal.Status.choices, read_only=False, required=False, default=""
    )
    entry = serializers.IntegerField(required=False, min_value=1)


@extend_schema_view(
    list=extend_schema(
        summary="Wording proposals, newest first",
        parameters=[ProposalFilterSerializer],
    ),
    retrieve=extend_schema(summary="A wording proposal"),
)
class WordingProposalViewSet(TenantReadOnlyViewSet):
    permission_classes = [ReadOrAgent]
    serializer_class = WordingProposalSerializer
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        queryset = WordingProposal.objects.select_related("entry")
        if self.action == "list":
            filters = ProposalFilterSerializer(data=self.request.query_params)
            filters.is_valid(raise_exception=True)
            if filters.validated_data["status"]:
                queryset = queryset.filter(status=filters.validated_data["status"])
            if "entry" in filters.validated_data:
                queryset = queryset.filter(entry_id=filters.validated_data["entry"])
        return queryset

    @extend_schema(
        summary="Approve: the wording becomes a similar question of its entry",
        request=None,
        responses=WordingProposalSerializer,
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        proposal = proposals.proposal_approve(proposal=self.get_object(), actor=request.user)
        return Response(WordingProposalSerializer(proposal).data)

    @extend_schema(summary="Reject a proposal", request=None, responses=WordingProposalSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        proposal = proposals.proposal_reject(proposal=self.get_object(), actor=request.user)
        return Response(WordingProposalSerializer(proposal).data)
