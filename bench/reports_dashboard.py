"""Benchmark: the dashboard at 1,000,000 messages and 100,000 work orders in one tenant.

    .venv/bin/python bench/reports_dashboard.py            # 1,000,000 messages
    .venv/bin/python bench/reports_dashboard.py --small    # 100,000 messages
    .venv/bin/python bench/reports_dashboard.py --reuse    # measure again without reloading

It creates the database `helpdesk_bench_reports_dashboard` (or --database; dropped and
created again unless --reuse), migrates it, and loads one big tenant with server-side
INSERT ... SELECT over generate_series: 200,000 conversations of 5 messages over 180 days
(questions in 4,800 wordings, each answer linked to its question), an LLM call per answer,
100,000 work orders, 1,000 alerts; and a small second tenant. Then VACUUM ANALYZE.

It times in-process requests (Django's test client, a logged-in tenant admin) of the
dashboard page and of its JSON refresh, for today, 7, 30 and 180 days in the tenant's time
zone (so each period has a day in progress), twice: with no rollups stored (the first
request of a period computes them), and after `refresh_report_rollups` computed them ahead.
It prints the first request, median and p95 of each, and the load average.

Server: BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchdb import recreate_database, setup_django  # noqa: E402

DATABASE = "helpdesk_bench_reports_dashboard"
DAYS = 180

LOAD = [
    # Conversations: every 10th handed off, every 7th rated.
    """INSERT INTO dialogue_chatsession (tenant_id, channel, external_user_id, status,
        handoff_reason, end_reason, message_count, low_confidence_streak, satisfaction,
        started_at, last_activity_at, handed_off_at)
       SELECT %(tenant)s, 'web', 'v-' || i, 'ended',
              CASE WHEN i %% 10 = 0 THEN 'keyword' ELSE '' END, 'closed', 5, 0,
              CASE WHEN i %% 7 = 0 THEN 1 + i %% 5 END,
              now() - (i::float / %(sessions)s) * interval '%(days)s days',
              now() - (i::float / %(sessions)s) * interval '%(days)s days',
              CASE WHEN i %% 10 = 0
                   THEN now() - (i::float / %(sessions)s) * interval '%(days)s days' END
       FROM generate_series(1, %(sessions)s) AS i""",
    # Five messages each: user, assistant, user, assistant, user.
    """INSERT INTO dialogue_message (tenant_id, session_id, role, content, channel_message_id,
        citations, low_confidence, kb_only, llm_call_id, error_type, thumbs_up, created_at)
       SELECT s.tenant_id, s.id, CASE WHEN k %% 2 = 0 THEN 'assistant' ELSE 'user' END,
              CASE WHEN k %% 2 = 0 THEN '请按以下步骤处理。'
                   ELSE (ARRAY['', '我的车', '请问', '昨天开始', '你好，'])[1 + (s.id + k) %% 5]
                     || (ARRAY['车机', '中控屏', '蓝牙', 'OTA 升级', '充电桩', '导航', '空调',
                               '倒车影像', '语音助手', '钥匙', '远程控制', '胎压监测',
                               '座椅加热', '行车记录仪', '氛围灯', '雨刮'])
                        [1 + (s.id * 7 + k) %% 16]
                     || (ARRAY['黑屏', '失败', '连不上', '没反应', '很慢', '报错', '无法启动',
                               '一直重启', '显示异常', '断开'])[1 + (s.id * 3 + k * 5) %% 10]
                     || (ARRAY['怎么办', '怎么处理', '是什么原因', '能修吗', '要去4S店吗', ''])
                        [1 + (s.id / 16 + k) %% 6]
              END,
              '', CASE WHEN k %% 2 = 0 AND s.id %% 3 <> 0 THEN '[1]'::jsonb ELSE '[]'::jsonb END,
              k %% 2 = 0 AND s.id %% 6 = 0, false, '', '',
              CASE WHEN k %% 2 = 0 AND s.id %% 11 = 0 THEN s.id %% 2 = 0 END,
              s.started_at + k * interval '1 minute'
       FROM dialogue_chatsession s CROSS JOIN generate_series(1, 5) AS k
       WHERE s.tenant_id = %(tenant)s""",
    # Each answer replies to the question a minute before it.
    """UPDATE dialogue_message AS a SET reply_to_id = q.id FROM dialogue_message AS q
       WHERE a.tenant_id = %(tenant)s AND a.role = 'assistant' AND q.session_id = a.session_id
         AND q.created_at = a.created_at - interval '1 minute'""",
    """INSERT INTO llm_llmcall (tenant_id, purpose, model, stream, prompt_tokens,
        completion_tokens, usage_reported, cost, latency_ms, attempts, outcome, error_type,
        created_at)
       SELECT tenant_id, 'chat', CASE WHEN id %% 4 = 0 THEN 'deepseek-chat' ELSE 'qwen-plus' END,
              true, 600, 150, true, 0.0009, 800, 1, 'ok', '', created_at
       FROM dialogue_message WHERE tenant_id = %(tenant)s AND role = 'assistant'""",
    """INSERT INTO workorders_workorder (tenant_id, number, title, description, category,
        priority, status, source, requester_name, requester_contact, requester_external_id,
        vin, module, region, extra, resolution, created_at, updated_at, due_at, resolved_at,
        first_response_at)
       SELECT %(tenant)s, 'WO-B-' || i, '工单 ' || i, '',
              (ARRAY['OTA','充电','车机','售后'])[1 + i %% 4],
              (ARRAY['low','medium','high','urgent'])[1 + i %% 4],
              CASE WHEN i %% 5 = 0 THEN 'open' ELSE 'resolved' END, 'chat', '', '', '', '',
              (ARRAY['车机','T-BOX','BMS','ADAS','座舱'])[1 + i %% 5], '', '{}'::jsonb, '',
              c, c, c + interval '24 hours',
              CASE WHEN i %% 5 <> 0 THEN c + (i %% 48) * interval '1 hour' END,
              c + (i %% 120) * interval '1 minute'
       FROM (SELECT i, now() - (i::float / %(orders)s) * interval '%(days)s days' AS c
             FROM generate_series(1, %(orders)s) AS i) AS t""",
    """INSERT INTO alerts_alert (tenant_id, source, level, status, title, message, metric, unit,
        comparison, first_seen_at, last_seen_at, count, resolution_note)
       SELECT %(tenant)s, 'manual', (ARRAY['info','warning','error'])[1 + i %% 3], 'resolved',
              'alert ' || i, '', '', '', '',
              now() - (i::float / 1000) * interval '%(days)s days',
              now() - (i::float / 1000) * interval '%(days)s days', 1, ''
       FROM generate_series(1, 1000) AS i""",
]


def load(sessions: int, orders: int) -> tuple[int, int]:
    from django.db import connection

    from accounts.models import Tenant, User
    from accounts.services import tenant_create
    from helpdesk.roles import Role

    big = tenant_create(name="大租户", slug="big")
    small = tenant_create(name="小租户", slug="small")
    User.objects.create_user(
        username="bench-admin", password="x", tenant=big, role=Role.TENANT_ADMIN, is_staff=True
    )
    with connection.cursor() as cursor:
        for tenant, n_sessions, n_orders in ((big, sessions, orders), (small, 1000, 1000)):
            for statement in LOAD:
                started = time.perf_counter()
                cursor.execute(
                    statement,
                    {"tenant": tenant.pk, "sessions": n_sessions, "orders": n_orders, "days": DAYS},
                )
                seconds = time.perf_counter() - started
                table = statement.split("(")[0].split(" AS ")[0].strip()
                print(f"  {tenant.slug}: {cursor.rowcount:>9,} rows in {seconds:5.1f} s  {table}")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return Tenant.objects.get(slug="big").pk, small.pk


def timed(client, url: str, runs: int) -> tuple[float, list[float]]:
    started = time.perf_counter()
    response = client.get(url)
    first = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        assert client.get(url).status_code == 200
        times.append((time.perf_counter() - started) * 1000)
    return first, times


def measure_periods(client, zone, runs: int) -> None:
    from datetime import timedelta

    from django.utils import timezone

    end = timezone.localdate(timezone=zone)
    custom = f"period=custom&start={end - timedelta(days=179)}&end={end}"
    periods = (("today", "period=today"), ("7 days", "period=7d"), ("30 days", "period=30d"))
    print(f"{'request':44} {'first':>9} {'median':>9} {'p95':>9}")
    for name, query in (*periods, ("180 days", custom)):
        for label, url in (
            (f"dashboard page, {name}", f"/admin/?{query}"),
            (f"dashboard JSON (refresh), {name}", f"/admin/dashboard/data/?{query}"),
        ):
            first, times = timed(client, url, runs)
            p95 = statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]
            print(f"{label:44} {first:8.0f}ms {statistics.median(times):8.0f}ms {p95:8.0f}ms")


def measure(runs: int) -> None:
    from django.core.management import call_command
    from django.test import Client

    from accounts.models import User
    from dialogue.models import Message
    from helpdesk.tenancy import tenant_scope
    from reports.models import DailyActivity

    user = User.objects.get(username="bench-admin")
    client = Client()
    client.force_login(user)
    with tenant_scope(user.tenant):
        print(f"messages in the tenant: {Message.objects.count():,}")
    print(f"load average {os.getloadavg()[0]:.2f}")
    print("\nno rollups stored: the first request of a period computes them")
    DailyActivity.all_tenants.all().delete()
    measure_periods(client, user.tenant.zone, runs)
    DailyActivity.all_tenants.all().delete()
    started = time.perf_counter()
    call_command("refresh_report_rollups", "--tenant", user.tenant.slug)
    print(f"\nrefresh_report_rollups: {time.perf_counter() - started:.1f} s; then:")
    measure_periods(client, user.tenant.zone, runs)
    print(f"load average {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", action="store_true")
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--database", default=DATABASE)
    args = parser.parse_args()
    sessions, orders = (20_000, 10_000) if args.small else (200_000, 100_000)
    if not args.reuse:
        recreate_database(args.database)
    # Migrating a reused database too adds the indexes of newer migrations.
    setup_django(args.database, migrate=True)
    if not args.reuse:
        print(f"loading {sessions * 5:,} messages and {orders:,} work orders")
        load(sessions, orders)
    measure(args.runs)


if __name__ == "__main__":
    main()
