"""The copy corpus of bench/copy_fidelity.py: 210 strings (70 English, 70 Chinese, 70 mixed:
headlines, sublines, prices formatted by Babel with $, € and £, calls to action, dates and
legal lines), grouped five to an ad (one per role)."""

from __future__ import annotations

from rendering.compose.ad_copy import format_price

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
LANGUAGES = ("en", "zh", "mixed")


def ads(language: str, count: int) -> list[dict]:
    """The first ``count`` ads of a language, one string per role."""
    return [{"headline": HEADLINES[language][i], "subline": SUBLINES[language][i],
             "price": PRICES[language][i], "cta": CTAS[language][i],
             "disclaimer": LEGAL[language][i]} for i in range(count)]
