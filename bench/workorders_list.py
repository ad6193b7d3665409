"""Benchmark: the work-order list API and admin list page on a large PostgreSQL database.

    .venv/bin/python bench/workorders_list.py            # 1,000,000 rows, 100 tenants
    .venv/bin/python bench/workorders_list.py --small    # 100,000 rows, 10 tenants
    .venv/bin/python bench/workorders_list.py --reuse    # measure again without reloading

It creates a separate database (default `helpdesk_bench_wo`, dropped and created
again unless --reuse), runs the migrations into it, bulk-loads work orders with
server-side multi-row INSERT ... SELECT statements (secondary indexes are dropped
during the load and rebuilt afterwards), runs VACUUM ANALYZE, and then times
in-process requests (Django's test client, real token and session
authentication) against the biggest tenant. It prints median and p95 per
scenario, and EXPLAIN ANALYZE of the slowest query of the slowest scenario.

Server: BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchdb import recreate_database, setup_django  # noqa: E402

TITLES = [
    "刹车异响",
    "OTA 升级失败",
    "中控屏黑屏",
    "倒车影像卡顿",
    "蓝牙钥匙无法解锁",
    "充电中断",
    "胎压报警",
    "空调不制冷",
    "自动泊车退出",
    "导航定位漂移",
    "车窗无法升降",
    "雨刮异响",
    "座椅加热失灵",
    "续航里程骤降",
    "语音助手无响应",
    "App 无法连接车辆",
    "仪表盘故障灯亮",
    "转向助力异常",
    "后备箱无法打开",
    "申请退款",
    "发票开具咨询",
    "保养预约",
    "流量包续费",
    "车机频繁重启",
    "远程启动失败",
    "疲劳驾驶误报",
    "车道保持偏移",
    "音响杂音",
    "门把手不弹出",
    "低压电池亏电",
]
PHRASES = [
    "车主反馈",
    "昨晚升级后",
    "雨天时",
    "高速行驶中",
    "冷启动后",
    "已重启车机无效",
    "需要进站抓取日志",
    "已联系 4S 店",
    "偶发",
    "持续一周",
    "报错代码 E-203",
    "报错代码 P0A80",
    "用户情绪激动",
    "要求尽快处理",
    "已提供截图",
    "怀疑与最新 OTA 有关",
    "与充电桩型号有关",
    "仅在低温环境出现",
    "重复购买",
    "涉及退款",
]
MODULES = ["座舱", "车身", "底盘", "动力电池", "智驾", "车联网", "热管理"]
REGIONS = ["华东", "华南", "华北", "华中", "西南", "西北", "东北"]
CATEGORIES = ["OTA", "影像", "数字钥匙", "充电", "保养", "账单", "智能驾驶", "硬件"]


def sql_array(values: list[str]) -> str:
    quoted = ",".join("'" + v.replace("'", "''") + "'" for v in values)
    return f"ARRAY[{quoted}]"


def pick(values: list[str], seed_expr: str) -> str:
    return f"({sql_array(values)})[1 + floor({seed_expr} * {len(values)})::int]"


def load(total: int, tenants: int, big: int) -> None:
    """Tenants, 5 agents each, and `total` work orders (`big` of them in the first tenant)."""
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import Tenant, User
    from helpdesk.roles import Role

    started = time.perf_counter()
    call_command("migrate", verbosity=0, skip_checks=True)
    Tenant.objects.bulk_create(
        Tenant(name=f"租户{n:03d}", slug=f"bench-{n:03d}") for n in range(tenants)
    )
    tenant_ids = list(Tenant.objects.order_by("pk").values_list("pk", flat=True))
    User.objects.bulk_create(
        User(
            username=f"agent-{t}-{k}",
            tenant_id=t,
            role=Role.TENANT_ADMIN if k == 0 else Role.AGENT,
            is_staff=True,
            password="!",
        )
        for t in tenant_ids
        for k in range(5)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'workorders_workorder' "
            "AND indexname NOT LIKE '%%pkey' AND indexname <> 'workorder_unique_number'"
        )
        secondary = cursor.fetchall()
        for name, _definition in secondary:
            cursor.execute(f'DROP INDEX "{name}"')
    print(
        f"migrated, {tenants} tenants, {tenants * 5} users in {time.perf_counter() - started:.1f}s"
    )

    started = time.perf_counter()
    rest = (total - big) // (tenants - 1)
    sizes = [big] + [rest] * (tenants - 1)
    sizes[-1] += total - sum(sizes)
    status = (
        "CASE WHEN r1 < 0.15 THEN 'open' WHEN r1 < 0.25 THEN 'in_progress' "
        "WHEN r1 < 0.30 THEN 'pending' WHEN r1 < 0.60 THEN 'resolved' ELSE 'closed' END"
    )
    priority = (
        "CASE WHEN r2 < 0.30 THEN 'low' WHEN r2 < 0.75 THEN 'medium' "
        "WHEN r2 < 0.95 THEN 'high' ELSE 'urgent' END"
    )
    insert = f"""
        INSERT INTO workorders_workorder (
            tenant_id, number, title, description, category, priority, status, source,
            assignee_id, requester_name, requester_contact, requester_external_id, vin,
            module, region, extra, resolution, satisfaction, due_at, created_at, updated_at,
            resolved_at, closed_at)
        SELECT %(tenant)s,
            'WO-' || to_char(created, 'YYYYMMDD') || '-' || lpad(i::text, 6, '0'),
            {pick(TITLES, "r3")},
            {pick(PHRASES, "r4")} || '，' || {pick(PHRASES, "r5")} || '，'
                || {pick(PHRASES, "r1")} || '。VIN LSV'
                || lpad((i * 7919 %% 99999999)::text, 8, '0'),
            {pick(CATEGORIES, "r5")}, {priority}, {status}, 'manual',
            CASE WHEN r4 < 0.2 THEN NULL ELSE %(first_user)s + floor(r4 * 5)::int END,
            '用户' || i, '1380000' || lpad((i %% 10000)::text, 4, '0'), '', '',
            {pick(MODULES, "r2")}, {pick(REGIONS, "r3")}, '{{}}'::jsonb,
            CASE WHEN r1 >= 0.30 THEN '已处理' ELSE '' END,
            CASE WHEN r1 >= 0.30 THEN 1 + floor(r5 * 5)::int END,
            created + interval '72 hours', created, created,
            CASE WHEN r1 >= 0.30 THEN created + interval '20 hours' END,
            CASE WHEN r1 >= 0.60 THEN created + interval '30 hours' END
        FROM (
            SELECT i, random() r1, random() r2, random() r3, random() r4, random() r5,
                   now() - random() * interval '365 days' AS created
            FROM generate_series(1, %(n)s) AS i
        ) AS g
    """
    users = dict(User.objects.filter(username__endswith="-0").values_list("tenant_id", "pk"))
    with connection.cursor() as cursor:
        for tenant_id, size in zip(tenant_ids, sizes, strict=True):
            cursor.execute(insert, {"tenant": tenant_id, "n": size, "first_user": users[tenant_id]})
    print(f"inserted {total:,} work orders in {time.perf_counter() - started:.1f}s")

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for _name, definition in secondary:
            cursor.execute(definition)
    print(f"rebuilt {len(secondary)} indexes in {time.perf_counter() - started:.1f}s")
    vacuum()


def vacuum() -> None:
    from django.db import connection

    started = time.perf_counter()
    connection.ensure_connection()
    raw = connection.connection
    previous = raw.autocommit
    raw.autocommit = True
    try:
        raw.execute("VACUUM ANALYZE")
    finally:
        raw.autocommit = previous
    print(f"VACUUM ANALYZE in {time.perf_counter() - started:.1f}s")


def timed(call, iterations: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[18]


def measure(iterations: int) -> None:
    from datetime import timedelta

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from accounts.models import ApiToken, Tenant, User

    tenants = list(Tenant.objects.order_by("pk"))
    big, small = tenants[0], tenants[-1]

    def api_client(tenant) -> APIClient:
        user = User.objects.get(username=f"agent-{tenant.pk}-1")
        _token, key = ApiToken.issue(user=user, max_age=timedelta(hours=1))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    api = api_client(big)
    api_small = api_client(small)
    admin = Client()
    admin.force_login(User.objects.get(username=f"agent-{big.pk}-1"))
    rows = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM workorders_workorder WHERE tenant_id = %s", [big.pk])
        rows["big"] = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM workorders_workorder")
        rows["all"] = cursor.fetchone()[0]
        cursor.execute(
            "SELECT number FROM workorders_workorder WHERE tenant_id = %s ORDER BY id LIMIT 1 "
            "OFFSET 777",
            [big.pk],
        )
        number = cursor.fetchone()[0]
    print(f"\n{rows['all']:,} work orders; measured tenant has {rows['big']:,}\n")

    wo = "/api/v1/workorders/"
    changelist = "/admin/workorders/workorder/"
    scenarios = [
        ("API list, no filter", api, wo, {}),
        ("API list, status+priority filter", api, wo, {"status": "open", "priority": "high"}),
        (
            "API list, 2 statuses + priority + assignee",
            api,
            wo,
            {"status": "open,in_progress", "priority": "urgent", "assignee": "me"},
        ),
        ("API list, overdue", api, wo, {"overdue": "true"}),
        ("API list, search common word (刹车)", api, wo, {"q": "刹车"}),
        ("API list, search rare text (VIN part)", api, wo, {"q": "LSV00123"}),
        ("API list, search number", api, wo, {"q": number}),
        ("API list, small tenant, filter", api_small, wo, {"status": "open", "priority": "high"}),
        ("Admin list, no filter", admin, changelist, {}),
        (
            "Admin list, status+priority",
            admin,
            changelist,
            {"status__exact": "open", "priority__exact": "high"},
        ),
        ("Admin list, search (刹车)", admin, changelist, {"q": "刹车"}),
    ]
    results = []
    print(f"{'scenario':48} {'median ms':>10} {'p95 ms':>8}  rows")
    for label, client, path, params in scenarios:
        response = client.get(path, params)
        assert response.status_code == 200, (label, response.status_code, response.content[:300])
        count = response.json()["meta"]["pagination"]["count"] if path == wo else ""
        samples = timed(lambda c=client, p=path, q=params: c.get(p, q), iterations)
        results.append((label, client, path, params, statistics.median(samples), p95(samples)))
        print(f"{label:48} {statistics.median(samples):10.1f} {p95(samples):8.1f}  {count}")

    slowest = max(results, key=lambda r: r[5])
    label, client, path, params = slowest[:4]
    with CaptureQueriesContext(connection) as captured:
        client.get(path, params)
    plans = []
    for query in captured.captured_queries:
        sql = query["sql"]
        if "workorders_workorder" not in sql:
            continue
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        total = float(plan.rsplit("Execution Time: ", 1)[1].split(" ")[0])
        plans.append((total, sql, plan))
    total, sql, plan = max(plans)
    print(f"\nSlowest scenario: {label}; its slowest query ({total:.1f} ms):\n{sql}\n\n{plan}")
    target = next(r for r in results if r[0] == "API list, status+priority filter")
    verdict = "met" if target[5] < 50 else "NOT met"
    print(f"\nTarget p95 < 50 ms for the filtered first page: {target[5]:.1f} ms ({verdict}).")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="100,000 rows in 10 tenants")
    parser.add_argument("--reuse", action="store_true", help="keep the loaded database")
    parser.add_argument("--database", default="helpdesk_bench_wo")
    parser.add_argument("--iterations", type=int, default=0)
    args = parser.parse_args()
    total, tenants, big = (100_000, 10, 10_000) if args.small else (1_000_000, 100, 100_000)
    iterations = args.iterations or (30 if args.small else 100)
    if not args.reuse:
        recreate_database(args.database)
    setup_django(args.database)
    if not args.reuse:
        load(total, tenants, big)
    measure(iterations)


if __name__ == "__main__":
    main()
