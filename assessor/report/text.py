"""Every fixed phrase of the mediation report, in Chinese and English.

Kept apart from the layout so an office can reword the report without reading the HTML code.
"""

from __future__ import annotations

from assessor.schema import Band

LANGS = ("zh", "en")

TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "未成年人游戏充值纠纷 证据评估报告",
        "subtitle": "供调解使用 · 案件 {case_id}",
        "generated": "生成时间",
        "summary": "一、案件概况",
        "case_id": "案件编号",
        "platform_game": "平台 / 游戏",
        "account": "游戏账号",
        "real_name": "实名认证",
        "holder": "实名人身份",
        "holder_id": "实名证件号（已遮蔽）",
        "holder_age": "实名人付款时年龄",
        "claim_relation": "申请人与未成年人关系",
        "minor_age": "所称未成年人付款时年龄",
        "minor_id": "未成年人证件号（已遮蔽）",
        "guardian_id": "监护人证件号（已遮蔽）",
        "statement": "申请人陈述（摘录，已遮蔽号码）",
        "records": "证据记录数",
        "records_value": "充值 {recharges} 笔（争议 {disputed} 笔），登录 {sessions} 次，聊天 {chats} 条，"
                         "人脸识别 {face_checks} 次，防沉迷行为记录 {traces} 条",
        "payment_range": "充值时间范围",
        "amounts": "金额",
        "amounts_value": "争议金额 ¥{disputed}，按逐笔可能性折算可归因于未成年人 ¥{attributable}",
        "unknown": "未知",
        "none": "无",
        "age_years": "{age} 周岁",
        "age_range": "{low}–{high} 周岁",
        "verdict": "二、评估结论",
        "verdict_line": "付款人为未成年人的可能性：",
        "band": "结论等级",
        "what_it_means": "这意味着什么",
        "what_it_does_not_mean": "这不意味着什么",
        "prior_line": "先验可能性 {prior}，综合全部证据后的对数几率 {log_odds}。",
        "bound_line": "规则“{rule}”设定了{kind} {bound}，{applied}。",
        "floor": "下限", "ceiling": "上限",
        "bound_applied": "本案结论受其约束", "bound_not_applied": "本案结论未触及该界限",
        "reasons": "三、主要理由及所依据的记录",
        "for_minor": "指向未成年人付款",
        "for_adult": "指向成年人付款",
        "weight": "权重（对数几率）",
        "no_reasons": "无",
        "records_label": "记录",
        "more_records": "另有 {n} 条记录",
        "waterfall_caption": "图 1　各项证据如何把可能性从先验推到最终结论（对数几率逐项相加）",
        "findings": "四、监管事实及法律依据",
        "findings_note": "以下事实与上面的可能性无关，无论结论如何都应考虑。",
        "basis": "依据",
        "amount": "金额",
        "no_findings": "未发现需要单列的监管事实。",
        "payments": "五、逐笔充值及归属",
        "payments_note": "“未成年人可能性”是逐笔估计；可归因金额 = 金额 × 可能性，只计争议中的成功人民币付款。",
        "col_time": "时间", "col_day": "日期类型", "col_amount": "金额", "col_item": "商品",
        "col_channel": "支付方式", "col_payer": "付款账户（已遮蔽）", "col_status": "状态",
        "col_disputed": "争议", "col_probability": "未成年人可能性", "col_attributable": "可归因金额",
        "col_id": "订单号",
        "yes": "是", "no": "否",
        "no_payments": "案件中没有充值记录。",
        "calendar_caption": "图 2　充值在校历上的位置：上学日、周末、法定节假日、寒暑假与停课期分色标出，"
                            "浅橙色为上学日的上课时段，灰色竖条为登录时段，点的颜色为逐笔未成年人可能性",
        "heatmap_caption": "图 3　按星期与钟点统计的充值笔数与在线时长；虚线框为周一至周五的上课时段",
        "missing": "六、缺少的证据与提示",
        "coverage_ok": "已提供",
        "coverage_missing": "未提供",
        "ask_for": "建议向运营方调取",
        "engine_notes": "评估提示",
        "appendix": "附录：全部评分项",
        "appendix_note": "对数几率 = logit(先验) + 下列各项之和（若有下限/上限规则生效，以其为准）。",
        "col_item_id": "项目", "col_source": "证据类别", "col_summary": "说明", "col_evidence": "记录",
        "footer_model": "模型 {name} {version}（SHA-256 {sha}…），规则库 {rulebook}，assessor {assessor}。",
        "footer_honesty": "模型在按公开资料模拟的纠纷上训练，没有公开的真实标注数据；"
                          "在模拟数据上测得的准确率说明的是模型对模拟器的拟合，不是对真实纠纷的准确率。",
        "footer_privacy": "身份证号、电话号码和付款账户在本报告中均已遮蔽。",
        "charts_unavailable": "图表未生成：未安装 matplotlib（pip install matplotlib 后重新生成报告）。",
        "charts_note": "图表见本报告的 HTML 版本。",
        "chart_failed": "该图未能生成：{error}",
    },
    "en": {
        "title": "Minor game-recharge dispute: evidence assessment report",
        "subtitle": "For mediation · case {case_id}",
        "generated": "Generated",
        "summary": "1. Case summary",
        "case_id": "Case number",
        "platform_game": "Platform / game",
        "account": "Game account",
        "real_name": "Real-name verification",
        "holder": "Registered under",
        "holder_id": "Registered ID number (masked)",
        "holder_age": "Registered person's age at the payments",
        "claim_relation": "Claimant's relation to the minor",
        "minor_age": "Claimed minor's age at the payments",
        "minor_id": "Minor's ID number (masked)",
        "guardian_id": "Guardian's ID number (masked)",
        "statement": "Claimant's statement (numbers masked)",
        "records": "Records supplied",
        "records_value": "{recharges} payments ({disputed} disputed), {sessions} sessions, {chats} chat messages, "
                         "{face_checks} face checks, {traces} anti-addiction login records",
        "payment_range": "Payments from / to",
        "amounts": "Amounts",
        "amounts_value": "disputed ¥{disputed}; attributable to the minor by per-payment likelihood ¥{attributable}",
        "unknown": "unknown",
        "none": "none",
        "age_years": "{age} years",
        "age_range": "{low}–{high} years",
        "verdict": "2. Verdict",
        "verdict_line": "Likelihood that the payer was a minor:",
        "band": "Band",
        "what_it_means": "What this means",
        "what_it_does_not_mean": "What this does not mean",
        "prior_line": "Prior likelihood {prior}; log-odds after all the evidence {log_odds}.",
        "bound_line": "Rule “{rule}” sets a {kind} of {bound}; {applied}.",
        "floor": "floor", "ceiling": "ceiling",
        "bound_applied": "it decides the result here", "bound_not_applied": "the result does not reach it",
        "reasons": "3. Principal reasons and the records behind them",
        "for_minor": "Pointing to a minor",
        "for_adult": "Pointing to an adult",
        "weight": "Weight (log-odds)",
        "no_reasons": "none",
        "records_label": "records",
        "more_records": "{n} more records",
        "waterfall_caption": "Figure 1. How each piece of evidence moves the likelihood from the prior to the "
                             "result (log-odds add up)",
        "findings": "4. Regulatory findings and their legal basis",
        "findings_note": "These facts stand whatever the likelihood above.",
        "basis": "Basis",
        "amount": "Amount",
        "no_findings": "No regulatory finding to list.",
        "payments": "5. Payments and their attribution",
        "payments_note": "“Minor likelihood” is estimated per payment; attributable = amount × likelihood, "
                         "for disputed successful CNY payments only.",
        "col_time": "Time", "col_day": "Day", "col_amount": "Amount", "col_item": "Item",
        "col_channel": "Channel", "col_payer": "Payer (masked)", "col_status": "Status",
        "col_disputed": "Disputed", "col_probability": "Minor likelihood", "col_attributable": "Attributable",
        "col_id": "Order",
        "yes": "yes", "no": "no",
        "no_payments": "The case holds no payments.",
        "calendar_caption": "Figure 2. Payments on the school calendar: school days, weekends, statutory "
                            "holidays, vacations and closures shaded; light orange marks school hours on school "
                            "days, grey bars are login sessions, dot colour is the per-payment minor likelihood",
        "heatmap_caption": "Figure 3. Payments and time online by weekday and hour; the dashed box is school hours, Monday to Friday",
        "missing": "6. Missing evidence and notes",
        "coverage_ok": "supplied",
        "coverage_missing": "not supplied",
        "ask_for": "ask the operator for",
        "engine_notes": "Notes from the assessment",
        "appendix": "Appendix: every scored item",
        "appendix_note": "log-odds = logit(prior) + the sum of the items below (unless a floor or ceiling "
                         "rule binds).",
        "col_item_id": "Item", "col_source": "Evidence", "col_summary": "Summary", "col_evidence": "Records",
        "footer_model": "Model {name} {version} (SHA-256 {sha}…), rulebook {rulebook}, assessor {assessor}.",
        "footer_honesty": "The model was fitted on disputes simulated from published facts: there is no public "
                          "labelled set of real disputes, and accuracy measured on simulated data describes the "
                          "simulator, not real families.",
        "footer_privacy": "ID numbers, phone numbers and payer accounts are masked in this report.",
        "charts_unavailable": "Charts were not drawn: matplotlib is not installed (pip install matplotlib, "
                              "then make the report again).",
        "charts_note": "The charts are in the HTML form of this report.",
        "chart_failed": "This chart could not be drawn: {error}",
    },
}

BAND_MEANING = {
    "zh": {
        Band.strong: "现有证据高度指向由未成年人付款（可能性不低于 85%）。",
        Band.likely: "现有证据更倾向于由未成年人付款（65%–85%），但尚未达到“高度可能”。补充证据可能改变结论。",
        Band.inconclusive: "现有证据不足以判断付款人是未成年人还是成年人（35%–65%）。请先补充下文列出的缺失证据。",
        Band.unlikely: "现有证据更指向由成年人付款（可能性不高于 35%）。",
    },
    "en": {
        Band.strong: "The evidence points strongly to the minor having paid (85% or more).",
        Band.likely: "The evidence leans towards the minor having paid (65% to 85%) but falls short of "
                     "“high probability”; more evidence may change it.",
        Band.inconclusive: "The evidence does not tell whether a minor or an adult paid (35% to 65%). "
                           "Ask for the missing evidence listed below first.",
        Band.unlikely: "The evidence points to an adult having paid (35% or less).",
    },
}

NOT_MEANING = {
    "zh": [
        "这是供调解参考的证据评估，不是法律裁决。是否退款、退多少，由当事人协商或由法院根据全部证据认定"
        "（《民诉法解释》第108条“高度可能性”标准）。",
        "可能性不是退款比例；可归因金额是按逐笔可能性折算的参考数，不是应退金额。",
        "监管事实（第四部分）与可能性无关：例如平台对已实名的未成年人突破充值限额，无论结论如何都应考虑。",
        "没有提供的证据不计入结论；补充证据后结论可能变化。",
    ],
    "en": [
        "This is an evidence assessment for mediation, not a legal ruling. Whether and how much to refund is "
        "for the parties to agree or for a court to decide on the whole record (CPL Interpretation Art. 108, "
        "the “high probability” standard).",
        "The likelihood is not a refund percentage; the attributable amount is an estimate weighted by each "
        "payment's likelihood, not an amount owed.",
        "Regulatory findings (section 4) stand whatever the likelihood: e.g. a platform that let a verified "
        "minor pay above the caps.",
        "Evidence that was not supplied counts for nothing; the verdict may change when it is.",
    ],
}

RELATION = {
    "zh": {"parent": "父母", "grandparent": "祖父母", "other_guardian": "其他监护人", "self": "本人", "other": "其他"},
    "en": {"parent": "parent", "grandparent": "grandparent", "other_guardian": "other guardian",
           "self": "the minor", "other": "other"},
}

HOLDER = {
    "zh": {"claimed_minor": "所称未成年人本人", "guardian": "监护人", "other_adult": "其他成年人",
           "other_minor": "其他未成年人", "unknown": "未知"},
    "en": {"claimed_minor": "the claimed minor", "guardian": "the guardian", "other_adult": "another adult",
           "other_minor": "another minor", "unknown": "unknown"},
}

STATUS = {
    "zh": {"verified": "已认证", "pending": "认证中", "failed": "认证失败", "unverified": "未实名",
           "guest": "游客模式（未实名）", "unknown": "未知"},
    "en": {"verified": "verified", "pending": "pending", "failed": "failed", "unverified": "not verified",
           "guest": "guest (no real name)", "unknown": "unknown"},
}

CHANNEL = {
    "zh": {"wechat": "微信支付", "alipay": "支付宝", "bank_card": "银行卡", "apple_iap": "苹果内购",
           "google_play": "Google Play", "carrier": "话费", "game_card": "游戏卡", "other": "其他"},
    "en": {"wechat": "WeChat Pay", "alipay": "Alipay", "bank_card": "bank card", "apple_iap": "Apple IAP",
           "google_play": "Google Play", "carrier": "carrier billing", "game_card": "game card", "other": "other"},
}

PAYMENT_STATUS = {
    "zh": {"success": "成功", "refunded": "已退款", "failed": "失败"},
    "en": {"success": "paid", "refunded": "refunded", "failed": "failed"},
}

DAY_KIND = {
    "zh": {"school": "上学日", "working_weekend": "调休上学日", "weekend": "周末", "holiday": "法定节假日",
           "vacation": "假期", "closure": "停课期", "school_hours": "上课时间"},
    "en": {"school": "school day", "working_weekend": "working weekend (school day)", "weekend": "weekend",
           "holiday": "statutory holiday", "vacation": "vacation", "closure": "school closure",
           "school_hours": "school hours"},
}

VACATION = {
    "zh": {"summer": "暑假", "winter": "寒假"},
    "en": {"summer": "summer vacation", "winter": "winter vacation"},
}

SOURCE = {
    "zh": {"chat": "聊天", "real_name": "实名", "recharge": "充值行为", "sessions": "登录", "face_check": "人脸识别",
           "face_checks": "人脸识别", "model": "模型基线", "rule": "规则"},
    "en": {"chat": "chat", "real_name": "real name", "recharge": "payment behaviour", "sessions": "sessions",
           "face_check": "face check", "face_checks": "face checks", "model": "model baseline", "rule": "rule"},
}

COVERAGE = {
    "zh": {
        "real_name": ("实名认证信息", "账号实名登记记录（证件号、认证方式与时间）"),
        "recharges": ("充值记录", "完整订单流水（订单号、时间、金额、支付方式、付款账户、设备）"),
        "sessions": ("登录记录", "登录日志或防沉迷系统行为记录（登录/登出时间、设备）"),
        "chats": ("聊天记录", "该账号的游戏内聊天记录（含时间与频道）"),
        "face_checks": ("人脸识别记录", "付款前后的人脸识别结果（是否通过、是否本人）"),
    },
    "en": {
        "real_name": ("Real-name registration", "the account's real-name record (ID number, method, time)"),
        "recharges": ("Payments", "the full order list (id, time, amount, channel, payer account, device)"),
        "sessions": ("Login sessions", "login logs or the anti-addiction login records (times, devices)"),
        "chats": ("Chat logs", "the account's in-game chat with times and channels"),
        "face_checks": ("Face checks", "face-check results around the payments (passed, whose face)"),
    },
}

WEEKDAYS = {
    "zh": ["周一", "周二", "周三", "周四", "周五", "周六", "周日"],
    "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
}

# Chart labels: ASCII in English so charts render even where no CJK font is installed.
CHART = {
    "zh": {
        "hour": "时刻", "date": "日期", "prior": "先验 {p}", "final": "结论 {p}", "others": "其余 {n} 项",
        "bound": "规则界限", "log_odds": "对数几率（← 成年人 · 未成年人 →）", "probability": "可能性",
        "payments_heat": "充值笔数", "sessions_heat": "在线时长（小时）", "school_hours": "上课时段",
        "school": "上学日", "weekend": "周末", "holiday": "法定节假日", "vacation": "寒暑假",
        "closure": "停课", "session": "登录时段", "payment": "充值（颜色=未成年人可能性）",
        "minor_p": "未成年人可能性", "not_disputed": "非争议", "no_payments": "没有充值记录",
        "bands": ["可能性低", "证据不足", "较可能", "高度可能"],
    },
    "en": {
        "hour": "hour of day", "date": "date", "prior": "prior {p}", "final": "result {p}", "others": "{n} other items",
        "bound": "rule bound", "log_odds": "log-odds (<- adult | minor ->)", "probability": "likelihood",
        "payments_heat": "payments (count)", "sessions_heat": "time online (hours)", "school_hours": "school hours",
        "school": "school day", "weekend": "weekend", "holiday": "statutory holiday", "vacation": "vacation",
        "closure": "closure", "session": "login session", "payment": "payment (colour = minor likelihood)",
        "minor_p": "minor likelihood", "not_disputed": "not disputed", "no_payments": "no payments",
        "bands": ["unlikely", "inconclusive", "likely", "strong"],
    },
}
