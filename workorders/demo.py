"""Demo work orders for `manage.py seed_demo` (idempotent: keyed by requester_external_id)."""

from __future__ import annotations

from accounts.models import User
from workorders import selectors, services
from workorders.models import WorkOrder

P = WorkOrder.Priority
S = WorkOrder.Status

# (external id, title, description, category, priority, module, region, vin, requester,
#  final status, resolution, satisfaction)
DEMO = [
    (
        "demo-wo-01",
        "OTA 升级后中控屏黑屏",
        "车主反馈昨晚 OTA 升级到 5.2.1 后，中控屏开机黑屏，仪表正常，重启无效。",
        "OTA",
        P.URGENT,
        "座舱",
        "华东",
        "LSVAU2180N2183561",
        "张先生",
        S.IN_PROGRESS,
        "",
        None,
    ),
    (
        "demo-wo-02",
        "倒车影像偶发卡顿",
        "雨天倒车时影像偶发卡顿约 2 秒，已持续一周。",
        "影像",
        P.MEDIUM,
        "座舱",
        "华南",
        "LSVAU2180N2183562",
        "李女士",
        S.PENDING,
        "",
        None,
    ),
    (
        "demo-wo-03",
        "手机蓝牙钥匙无法解锁",
        "App 显示已连接，但靠近车辆无法自动解锁，需要使用实体钥匙。",
        "数字钥匙",
        P.HIGH,
        "车身",
        "华北",
        "LSVAU2180N2183563",
        "王先生",
        S.RESOLVED,
        "引导用户在 App 中重新配对蓝牙钥匙后恢复正常。",
        5,
    ),
    (
        "demo-wo-04",
        "申请退款：导航流量包重复购买",
        "用户误操作重复购买了年度流量包，申请退还其中一笔。",
        "账单",
        P.LOW,
        "车联网",
        "西南",
        "",
        "赵女士",
        S.CLOSED,
        "核实为重复扣费，已原路退款，预计 3 个工作日到账。",
        4,
    ),
    (
        "demo-wo-05",
        "充电桩提示充电中断",
        "家用充电桩充电约 10 分钟后提示中断，报错代码 E-203。",
        "充电",
        P.HIGH,
        "动力电池",
        "华东",
        "LSVAU2180N2183565",
        "陈先生",
        S.OPEN,
        "",
        None,
    ),
    (
        "demo-wo-06",
        "需要进站抓取日志：自动泊车退出",
        "自动泊车过程中系统自动退出，需要预约进站抓取日志分析。",
        "智能驾驶",
        P.MEDIUM,
        "智驾",
        "华中",
        "LSVAU2180N2183566",
        "周先生",
        S.OPEN,
        "",
        None,
    ),
    (
        "demo-wo-07",
        "空调异味咨询",
        "开空调时有明显异味，咨询滤芯更换周期。",
        "保养",
        P.LOW,
        "热管理",
        "东北",
        "LSVAU2180N2183567",
        "吴女士",
        S.RESOLVED,
        "建议更换空调滤芯并做蒸发箱清洗，已预约保养。",
        3,
    ),
]


def _demo_agent() -> User | None:
    return selectors.assignable_users().order_by("pk").first()


def seed(tenant) -> str:
    existing = set(
        WorkOrder.objects.filter(requester_external_id__startswith="demo-wo-").values_list(
            "requester_external_id", flat=True
        )
    )
    agent = _demo_agent()
    created = 0
    for (
        external_id,
        title,
        description,
        category,
        priority,
        module,
        region,
        vin,
        requester,
        status,
        resolution,
        satisfaction,
    ) in DEMO:
        if external_id in existing:
            continue
        work_order = services.workorder_create(
            title=title,
            description=description,
            category=category,
            priority=priority,
            source=WorkOrder.Source.MANUAL,
            requester_name=requester,
            requester_external_id=external_id,
            vin=vin,
            module=module,
            region=region,
            actor=agent,
        )
        if status != S.OPEN:
            services.workorder_assign(work_order=work_order, assignee=agent, actor=agent)
            services.workorder_comment(
                work_order=work_order, actor=agent, body="已联系车主，正在跟进。", internal=True
            )
        if resolution or satisfaction:
            services.workorder_update(
                work_order=work_order,
                actor=agent,
                resolution=resolution,
                satisfaction=satisfaction,
            )
        path = {
            S.IN_PROGRESS: [S.IN_PROGRESS],
            S.PENDING: [S.PENDING],
            S.RESOLVED: [S.IN_PROGRESS, S.RESOLVED],
            S.CLOSED: [S.IN_PROGRESS, S.RESOLVED, S.CLOSED],
        }.get(status, [])
        for step in path:
            services.workorder_transition(work_order=work_order, status=step, actor=agent)
        created += 1
    return f"{created} work orders created ({len(DEMO) - created} already there)"
