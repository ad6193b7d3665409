"""The sample TR table: the after-sales team's Bitable columns with generated rows."""

from __future__ import annotations

import random
from typing import Any

# Column name -> Bitable field type as the open platform reports it.
TEXT, NUMBER, SELECT, DATE, CHECKBOX, PERSON, LINK, MODIFIED_TIME = (1, 2, 3, 5, 7, 11, 18, 1002)
TR_COLUMNS: dict[str, int] = {
    "TR Number": TEXT,
    "TR Description": TEXT,
    "Type of problem": SELECT,
    "TR Level": SELECT,
    "TR Status": SELECT,
    "Source": SELECT,
    "Date creation": DATE,
    "处理过程": TEXT,
    "TR tracking": TEXT,
    "Created by": PERSON,
    "Module（模块）": SELECT,
    "Wilfulness（责任人）": TEXT,
    "Date of close TR": DATE,
    "父记录": LINK,
    "Has it been updated on the same day": CHECKBOX,
    "Operating time": DATE,
    "AI建议": TEXT,
    "Issue Start Time": DATE,
    "最后更新时间": MODIFIED_TIME,
}
MODIFIED_TIME_COLUMN = "最后更新时间"

PROBLEMS = ["OTA升级失败", "蓝牙钥匙无法连接", "导航黑屏", "车机卡顿", "远程控制失效", "胎压报警"]
MODULES = ["OTA", "BT Key", "Navigation", "Infotainment", "Telematics", "Chassis"]
LEVELS = ["P0", "P1", "P2", "P3"]
STATUSES = ["待处理", "处理中", "已解决", "已关闭"]
SOURCES = ["用户反馈", "售后门店", "内部测试"]
PEOPLE = ["张伟", "王芳", "李娜", "刘洋"]


def text(value: str) -> list[dict[str, str]]:
    """A text cell as the records API returns it: a list of segments."""
    return [{"type": "text", "text": value}]


def sample_fields(index: int, *, now_ms: int, rng: random.Random | None = None) -> dict[str, Any]:
    rng = rng or random.Random(index)
    problem = rng.choice(PROBLEMS)
    created = now_ms - rng.randint(1, 60) * 86_400_000
    status = rng.choice(STATUSES)
    fields: dict[str, Any] = {
        "TR Number": text(f"TR-{index:05d}"),
        "TR Description": text(f"{problem}：车辆VIN LSVAU2180N{index:07d}，用户反馈{problem}。"),
        "Type of problem": problem,
        "TR Level": rng.choice(LEVELS),
        "TR Status": status,
        "Source": rng.choice(SOURCES),
        "Date creation": created,
        "处理过程": text("进站抓取日志，已提交研发分析。"),
        "Created by": [{"id": f"ou_{index:08x}", "name": rng.choice(PEOPLE)}],
        "Module（模块）": rng.choice(MODULES),
        "Wilfulness（责任人）": text(rng.choice(PEOPLE)),
        "Has it been updated on the same day": rng.random() < 0.3,
        "Operating time": created + 3_600_000,
        "Issue Start Time": created - 86_400_000,
    }
    if status in ("已解决", "已关闭"):
        fields["TR tracking"] = text("已通过OTA推送修复版本。")
        fields["Date of close TR"] = created + 5 * 86_400_000
    return fields
