"""The dashboard's period picker: a preset (today, 7 days, 30 days) or a custom range."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext_lazy as _

from reports.periods import Period, PeriodError, period_of, preset_period

PERIOD_CHOICES = [
    ("today", _("Today")),
    ("7d", _("Last 7 days")),
    ("30d", _("Last 30 days")),
    ("custom", _("Custom range")),
]
DEFAULT_PRESET = "7d"


class PeriodForm(forms.Form):
    period = forms.ChoiceField(label=_("Period"), choices=PERIOD_CHOICES, required=False)
    start = forms.DateField(label=_("From"), required=False)
    end = forms.DateField(label=_("To"), required=False)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("period") == "custom":
            if not data.get("start") or not data.get("end"):
                raise forms.ValidationError(_("A custom range needs both dates."))
            if data["end"] < data["start"]:
                raise forms.ValidationError(_("The end date is before the start date."))
        return data

    def live_query(self, period: Period) -> str:
        """The query string that shows `period` again later, for the page's refresh and
        downloads: a preset moves with the days (a "today" page left open shows the new day
        after midnight), a custom range stays put. Call it after `period_in`."""
        choice = self.cleaned_data.get("period") if self.is_bound and self.is_valid() else None
        if choice == "custom":
            return f"period=custom&start={period.start.isoformat()}&end={period.end.isoformat()}"
        return f"period={choice or DEFAULT_PRESET}"

    def period_in(self, zone: ZoneInfo) -> Period:
        """The chosen period (the default one when the form is not valid)."""
        data = self.cleaned_data if self.is_valid() else {}
        choice = data.get("period") or DEFAULT_PRESET
        if choice != "custom":
            return preset_period(choice, zone=zone)
        try:
            return period_of(start=data["start"], end=data["end"], zone=zone)
        except PeriodError as exc:
            self.add_error(None, str(exc))
            return preset_period(DEFAULT_PRESET, zone=zone)
