from django.urls import path

from dialogue.embed import launcher_labels
from dialogue.widget import widget_page

app_name = "widget"

urlpatterns = [
    path("<str:widget_key>/", widget_page, name="page"),
    path("<str:widget_key>/launcher/", launcher_labels, name="launcher"),
]
