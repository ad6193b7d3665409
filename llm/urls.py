from django.urls import path

from llm.api import LLMUsageView

urlpatterns = [path("llm/usage/", LLMUsageView.as_view(), name="llm-usage")]
