from rest_framework import serializers

from helpdesk.api.permissions import ReadOrAgent
from helpdesk.api.views import TenantModelViewSet
from helpdesk.tests.tenancy_app.models import Folder, Note


class NoteSerializer(serializers.ModelSerializer):
    folder = serializers.PrimaryKeyRelatedField(queryset=Folder.objects)

    class Meta:
        model = Note
        fields = ["id", "folder", "text"]


class NoteViewSet(TenantModelViewSet):
    serializer_class = NoteSerializer
    permission_classes = [ReadOrAgent]

    def get_queryset(self):
        return Note.objects.order_by("id")
