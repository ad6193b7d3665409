from django.contrib import admin

from helpdesk.admin import TenantScopedAdmin
from helpdesk.tests.tenancy_app.models import Folder, Note


@admin.register(Folder)
class FolderAdmin(TenantScopedAdmin):
    list_display = ("name",)


@admin.register(Note)
class NoteAdmin(TenantScopedAdmin):
    list_display = ("text", "folder")
    list_select_related = ("folder",)
