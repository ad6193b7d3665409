from django.apps import AppConfig


class TenancyAppConfig(AppConfig):
    name = "helpdesk.tests.tenancy_app"
    label = "tenancy_app"
