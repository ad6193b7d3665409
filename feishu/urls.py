from django.urls import path

from feishu import views

urlpatterns = [
    path("<str:app_id>/events/", views.events, name="feishu-events"),
    path("<str:app_id>/cards/", views.card_actions, name="feishu-cards"),
]
