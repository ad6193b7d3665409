from django.urls import path

from dialogue.widget import widget_page

app_name = "widget"

urlpatterns = [
    path("<str:widget_key>/", widget_page, name="page"),
]
