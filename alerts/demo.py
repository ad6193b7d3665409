"""Demo data: the default rules, one evaluation of them and a hand-raised alert (idempotent)."""

from accounts.models import Tenant
from alerts.evaluation import alerts_evaluate_tenant
from alerts.models import Alert, Level
from alerts.services import alert_create_manual, alert_rules_create_defaults

MANUAL_TITLE = "华东区 OTA 升级后多起中控黑屏反馈"
MANUAL_MESSAGE = (
    "今日上午起，华东区多位车主反馈 OTA 升级至 V3.2.1 后中控屏间歇性黑屏。"
    "请各坐席遇到相关来电时引导车主进站抓取日志，并在工单中注明 VIN 与模块“座舱域控”。"
)


def seed(tenant: Tenant) -> str:
    rules = alert_rules_create_defaults(tenant=tenant)
    if not Alert.objects.filter(title=MANUAL_TITLE).exists():
        alert_create_manual(
            title=MANUAL_TITLE, message=MANUAL_MESSAGE, level=Level.ERROR, actor=None
        )
    results = alerts_evaluate_tenant(tenant=tenant)
    fired = sum(1 for r in results if r.outcome in ("fired", "updated"))
    return f"{len(rules)} default alert rules created, {fired} rules firing"
