"""AI suggestions of work orders, and the conversations behind them."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from dialogue import selectors, suggestions
from dialogue.api.common import CONFLICT, Conflict, ServiceUnavailable
from dialogue.api.serializers import (
    MessageSerializer,
    ResolutionSerializer,
    SuggestionSerializer,
)
from dialogue.models import WorkOrderSuggestion
from helpdesk.api.permissions import IsTenantMember, ReadOrAgent
from helpdesk.api.views import (
    TenantGenericAPIView,
    TenantGenericViewSet,
)
from workorders.models import WorkOrder


def _work_order(pk: Any):
    return get_object_or_404(WorkOrder.objects.all(), pk=pk)


class WorkOrderConversationView(TenantGenericAPIView):
    serializer_class = MessageSerializer
    permission_classes = [IsTenantMember]

    @extend_schema(
        responses=MessageSerializer(many=True),
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)],
        summary="The chat conversation that led to a work order",
    )
    def get(self, request, pk: str):
        work_order = _work_order(pk)
        page = self.paginate_queryset(selectors.work_order_conversation(work_order.pk))
        return self.get_paginated_response(MessageSerializer(page, many=True).data)


class WorkOrderSuggestionView(TenantGenericAPIView):
    serializer_class = SuggestionSerializer
    permission_classes = [ReadOrAgent]

    @extend_schema(
        responses=SuggestionSerializer(many=True),
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)],
        summary="AI suggestions of a work order",
    )
    def get(self, request, pk: str):
        work_order = _work_order(pk)
        suggestions_qs = WorkOrderSuggestion.objects.filter(work_order=work_order)
        page = self.paginate_queryset(suggestions_qs)
        return self.get_paginated_response(SuggestionSerializer(page, many=True).data)

    @extend_schema(
        request=None,
        responses={201: SuggestionSerializer, 503: OpenApiResponse(description="No suggestion.")},
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)],
        summary="Generate an AI suggestion for a work order",
    )
    def post(self, request, pk: str):
        work_order = _work_order(pk)
        try:
            suggestion = suggestions.suggestion_generate(work_order=work_order, actor=request.user)
        except suggestions.SuggestionUnavailable as exc:
            raise ServiceUnavailable(str(exc)) from None
        return Response(SuggestionSerializer(suggestion).data, status=status.HTTP_201_CREATED)


class SuggestionViewSet(mixins.RetrieveModelMixin, TenantGenericViewSet):
    """Review AI suggestions: record the human resolution, approve or reject."""

    serializer_class = SuggestionSerializer
    permission_classes = [ReadOrAgent]

    def get_queryset(self):
        return WorkOrderSuggestion.objects.all()

    @extend_schema(request=ResolutionSerializer, summary="Record the human resolution")
    @action(detail=True, methods=["post"])
    def resolution(self, request, pk=None):
        body = ResolutionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        suggestion = suggestions.suggestion_record_resolution(
            suggestion=self.get_object(),
            human_resolution=body.validated_data["human_resolution"],
        )
        return Response(self.get_serializer(suggestion).data)

    @extend_schema(
        request=None,
        responses={200: SuggestionSerializer, 409: CONFLICT},
        summary="Approve: turn it into a verified knowledge entry",
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        try:
            suggestion = suggestions.suggestion_approve(
                suggestion=self.get_object(), actor=request.user
            )
        except suggestions.SuggestionStateError as exc:
            raise Conflict(str(exc)) from None
        return Response(self.get_serializer(suggestion).data)

    @extend_schema(
        request=None, responses={200: SuggestionSerializer, 409: CONFLICT}, summary="Reject"
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        try:
            suggestion = suggestions.suggestion_reject(
                suggestion=self.get_object(), actor=request.user
            )
        except suggestions.SuggestionStateError as exc:
            raise Conflict(str(exc)) from None
        return Response(self.get_serializer(suggestion).data)
