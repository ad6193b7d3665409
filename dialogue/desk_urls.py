from django.urls import path

from dialogue.desk_page import desk_page

urlpatterns = [
    path("", desk_page, name="desk"),
]
