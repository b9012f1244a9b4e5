"""Copy fidelity: copy set by the typography layer at every preset, read back by PP-OCR.

    .venv/bin/python bench/copy_fidelity.py [--presets KEY,KEY] [--assets-per-language 14]
                                            [--dry-run]

210 copy strings (70 English, 70 Chinese, 70 mixed: headlines, sublines, prices formatted by
Babel, calls to action, dates and legal lines) are grouped five to an ad (one per role) and
set on a busy background at each channel preset, then read back on the layer's boxes with the
real RapidOCR models, exactly as the text check does. Reports the exact-match rate per
language and preset (copy that did not fit counts as not exact, and is counted apart), and
the layer's and the checker's time per asset. Since B14 the text check verifies overlay copy
against a reference rendering (rendering/quality/overlay_check.py), not by OCR: the table
reports both, the share verified and its time, next to what OCR reads.
Appends the table to docs/benchmarks.md (--dry-run: prints it only).
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SCRATCH = Path(tempfile.mkdtemp(prefix="adstudio-copy-"))
os.environ["ADSTUDIO_VAR_DIR"] = str(SCRATCH)
os.environ["ADSTUDIO_MEDIA_ROOT"] = str(SCRATCH / "media")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adstudio.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.core.files.base import ContentFile  # noqa: E402
from django.core.files.storage import default_storage  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from rendering.compose.ad_copy import format_price  # noqa: E402
from rendering.compose.formats import PRESETS  # noqa: E402
from rendering.compose.typeset import typeset  # noqa: E402
from rendering.quality.overlay_check import verify_overlay  # noqa: E402
from rendering.quality.text_check import ocr_engine, read_overlay  # noqa: E402

HEADLINES = {
    "en": ["Summer Sale", "New Arrivals", "Built to Last", "Back to School", "Fresh Roast Daily",
           "Weekend Flash Deal", "Meet the Pro Series", "Hello, Autumn", "Free Shipping Week",
           "Winter Essentials", "Limited Edition", "Best Seller 2026", "Go Further",
           "Black Friday Starts Now"],
    "zh": ["夏季大促", "新品上市", "经久耐用", "开学季特惠", "每日新鲜烘焙", "周末限时抢购",
           "专业系列登场", "你好，秋天", "全场包邮周", "冬季必备好物", "限量珍藏版",
           "年度畅销榜", "走得更远", "黑色星期五开抢"],
    "mixed": ["Qwen Cafe 新品上市", "iPhone 配件专场", "AdStudio 夏日特惠", "Nike 跑鞋 5折起",
              "5G 手机节", "Pro Max 限量版", "4K 电视狂欢", "Wi-Fi 7 路由器首发",
              "VIP 会员日", "Air 系列上新", "USB-C 快充套装", "LED 台灯特价",
              "Coffee 买一送一", "SUV 试驾礼"],
}
SUBLINES = {
    "en": ["Recycled steel, built to last", "Roasted this morning in Berlin",
           "Up to 40% off selected styles", "Waterproof to 50 meters", "Two colors, one price",
           "Ships in 24 hours", "Lighter than ever before", "Made from 100% cotton",
           "Quiet, fast and efficient", "Now with a 2-year warranty", "Only while stocks last",
           "Designed in Copenhagen", "Charges in 30 minutes", "Plant-based and delicious"],
    "zh": ["再生钢材，经久耐用", "今晨柏林新鲜烘焙", "精选款式低至六折", "五十米防水",
           "两种颜色，一个价格", "二十四小时内发货", "前所未有的轻盈", "百分百纯棉制造",
           "安静、快速、高效", "现享两年质保", "售完即止", "哥本哈根设计", "三十分钟快速充电",
           "植物基，好味道"],
    "mixed": ["Cold brew 冷萃咖啡 ×2", "限时 48 小时 only", "满 299 减 50", "Type-C 接口 全兼容",
              "支持 Apple Pay 支付", "第 2 件半价", "IP68 防水防尘", "续航 20 小时",
              "含 3 年 warranty", "Size S–XL 全码", "新客立减 ¥20", "Bluetooth 5.3 连接",
              "满 2 件 9 折", "AI 智能降噪"],
}
AMOUNTS = ["19.99", "4.50", "1299.00", "89", "0.99", "249.95", "12.00", "59.90", "7.49",
           "349.00", "15.25", "2499.99", "39.90", "120.00"]
PRICES = {
    "en": [format_price(a, c, "en") for a, c in zip(AMOUNTS, ["USD", "EUR", "GBP"] * 5,
                                                     strict=False)],
    "zh": [format_price(a, "CNY", "zh") for a in AMOUNTS],
    "mixed": [f"Only {format_price(a, 'CNY', 'zh')}" if i % 2 else
              f"仅需 {format_price(a, 'USD', 'en')}" for i, a in enumerate(AMOUNTS)],
}
CTAS = {
    "en": ["Shop now", "Learn more", "Order today", "Get yours", "Book a demo", "Sign up",
           "Try it free", "Add to cart", "See the range", "Buy now", "Find a store",
           "Reserve now", "Get the deal", "Download"],
    "zh": ["立即购买", "了解更多", "今天下单", "马上抢购", "预约演示", "立即注册", "免费试用",
           "加入购物车", "查看系列", "立即抢购", "查找门店", "立即预订", "领取优惠", "立即下载"],
    "mixed": ["Order 立即下单", "Shop 马上逛", "Go 出发", "Get 领取", "Buy 购买", "Join 加入",
              "Try 试用", "Book 预约", "See 查看", "Save 省钱", "Pay 支付", "Start 开始",
              "Play 开玩", "Call 致电"],
}
LEGAL = {
    "en": ["Offer valid until 12/31/2026. T&Cs apply.", "Prices include VAT.",
           "While supplies last. See store for details.", "Valid 06/01/2026-06/30/2026.",
           "Free returns within 30 days.", "Not combinable with other offers.",
           "Ends Sunday, July 12, 2026.", "18+ only. Please drink responsibly.",
           "Delivery in 2-4 business days.", "Limit 2 per customer.",
           "Subject to credit approval.", "Offer ends 2026-09-30.", "Excludes sale items.",
           "Images for illustration only."],
    "zh": ["活动截至2026年12月31日，详见条款。", "价格含增值税。", "数量有限，售完即止。",
           "活动时间：6月1日至6月30日", "三十天内免费退货。", "不与其他优惠同享。",
           "2026年7月12日结束", "未满十八岁禁止饮酒。", "二至四个工作日送达。",
           "每位顾客限购两件。", "分期付款需审核。", "优惠截至9月30日。", "特价商品除外。",
           "图片仅供参考。"],
    "mixed": ["限时优惠 Offer ends 2026-12-31", "价格含 VAT", "T&C 适用，详见门店",
              "有效期 06/01–06/30", "30 天 free returns", "不与 coupon 同享",
              "截至 2026 年 7 月 12 日", "18+ 请理性饮酒", "2–4 个 business days 送达",
              "每人限购 2 件", "分期需 credit 审核", "Offer 截至 9 月 30 日", "Sale 商品除外",
              "图片仅供参考 for illustration"],
}
STYLE = {"colors": {"primary": "#0A4F8C", "accent": "#FF6F61", "background": "#F5EFE6",
                    "text": "#1B1B1B"}, "logo_position": "top-left"}
LANGUAGES = ("en", "zh", "mixed")


def background(width: int, height: int) -> Image.Image:
    """A busy render stand-in: a color gradient with blotchy noise (the worst case: the layer
    needs a scrim or a color switch almost everywhere)."""
    rng = np.random.default_rng(0)
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    base = 255 * np.concatenate([x + 0 * y, y + 0 * x, (1 - x) * (1 - y)], axis=2)
    blotches = Image.fromarray(rng.integers(0, 255, (height // 40 + 2, width // 40 + 2, 3),
                                            dtype=np.uint8)).resize((width, height))
    return Image.fromarray((0.6 * base + 0.4 * np.asarray(blotches)).astype(np.uint8))


def ads(language: str, count: int) -> list[dict]:
    return [{"headline": HEADLINES[language][i], "subline": SUBLINES[language][i],
             "price": PRICES[language][i], "cta": CTAS[language][i],
             "disclaimer": LEGAL[language][i]} for i in range(count)]


def logo_style() -> dict:
    logo = Image.new("RGBA", (240, 80), (0, 0, 0, 0))
    ImageDraw.Draw(logo).rounded_rectangle((4, 4, 236, 76), radius=20, fill=(10, 79, 140, 255))
    buffer = io.BytesIO()
    logo.save(buffer, format="PNG")
    name = default_storage.save("bench/logo.png", ContentFile(buffer.getvalue()))
    return {**STYLE, "logo": {"file": name, "sha256": "bench"}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--presets", default="", help="comma-separated preset keys (all)")
    parser.add_argument("--assets-per-language", type=int, default=14)
    parser.add_argument("--dry-run", action="store_true",
                        help="print the table; do not append it to docs/benchmarks.md")
    args = parser.parse_args()
    presets = [p for p in PRESETS if not args.presets or p.key in args.presets.split(",")]
    style = logo_style()
    started = time.perf_counter()
    ocr_engine()
    load_seconds = time.perf_counter() - started
    rows, misses, totals = [], [], {lang: [0, 0] for lang in LANGUAGES}
    for preset in presets:
        base = background(preset.width, preset.height)
        cells, layout_ms, check_ms, ocr_ms, missing, verified = [], [], [], [], 0, 0
        for language in LANGUAGES:
            exact = total = 0
            for copy in ads(language, args.assets_per_language):
                t0 = time.perf_counter()
                image, layout = typeset(base, copy=copy, mode="overlay", style=style,
                                        safe_zone=preset.safe_zone)
                t1 = time.perf_counter()
                verified += sum(r.exact for r in verify_overlay(image, layout))
                t2 = time.perf_counter()
                readings = read_overlay(image, layout)
                ocr_ms.append(1000 * (time.perf_counter() - t2))
                check_ms.append(1000 * (t2 - t1))
                layout_ms.append(1000 * (t1 - t0))
                missing += len(layout["missing"])
                total += len(copy)
                exact += sum(r.exact for r in readings)
                misses += [(preset.key, r.expected, r.read) for r in readings if not r.exact]
            totals[language][0] += exact
            totals[language][1] += total
            cells.append(f"{exact / total:.1%}")
        placed = sum(len(copy) for lang in LANGUAGES
                     for copy in ads(lang, args.assets_per_language)) - missing
        rows.append(f"| {preset.key} | {preset.width}x{preset.height} | {' | '.join(cells)} | "
                    f"{missing} | {verified / max(1, placed):.1%} | "
                    f"{statistics.median(layout_ms):.0f} | {statistics.median(check_ms):.0f} | "
                    f"{statistics.median(ocr_ms):.0f} |")
        print(rows[-1], flush=True)
    strings = sum(len(ads(lang, args.assets_per_language)) * 5 for lang in LANGUAGES)
    overall = " | ".join(f"{e / t:.1%}" for e, t in totals.values())
    table = "\n".join([
        "| preset | size | OCR exact: English | Chinese | mixed | did not fit | "
        "reference check: verified | layer ms/asset | reference check ms/asset | "
        "OCR ms/asset |", "|---|---|---|---|---|---|---|---|---|---|", *rows,
        f"| **all presets** | | {overall} | | | | | |"])
    wrong = "\n".join(f"- {key}: “{expected}” read as “{read}”"
                      for key, expected, read in misses[:40]) or "- none"
    print(table)
    print(wrong)
    if args.dry_run:
        return
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=ROOT).stdout.strip()
    command = "`.venv/bin/python bench/copy_fidelity.py" + (
        f" --presets {args.presets}`" if args.presets else "`")
    with (ROOT / "docs" / "benchmarks.md").open("a", encoding="utf-8") as fh:
        fh.write(f"\n## Copy fidelity: typography layer read back by PP-OCR "
                 f"({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)\n\n"
                 f"Machine: {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs; "
                 f"RapidOCR PP-OCRv4 on ONNX Runtime CPU, "
                 f"{os.environ.get('ADSTUDIO_OCR_THREADS', '1')} thread(s), models loaded "
                 f"in {load_seconds:.1f} s; commit {commit}.\n"
                 f"Command: {command}\n\n"
                 f"{strings} copy strings ({args.assets_per_language} ads x 5 roles per "
                 "language), overlay mode on a busy gradient-and-noise background with a logo. "
                 "A line counts as OCR-exact when its normalized reading (NFKC, no whitespace; "
                 "case compared, look-alike letters c o s u v w x z flagged as not verified) "
                 "equals the copy; copy that did not fit counts as not exact. The reference "
                 "check (what the text check runs on overlay copy) redraws each placed line "
                 "and compares pixels; verified is its share of the placed lines. "
                 "Times are medians per ad (5 lines).\n\n"
                 f"{table}\n\nLines not read exactly (first 40):\n\n{wrong}\n")


if __name__ == "__main__":
    main()
