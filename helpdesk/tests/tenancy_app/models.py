"""Test-only tenant-owned models that exercise every path of the tenancy layer."""

from django.conf import settings
from django.db import models

from helpdesk.tenancy import TenantOwnedModel


class Folder(TenantOwnedModel):
    name = models.CharField(max_length=50)

    def __str__(self) -> str:
        return self.name


class Note(TenantOwnedModel):
    folder = models.ForeignKey(Folder, on_delete=models.CASCADE, related_name="notes")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    text = models.CharField(max_length=200)

    def __str__(self) -> str:
        return self.text
