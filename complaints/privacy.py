"""Masking of personal data in complaint texts.

Public views, association views and the public search index show complaints with phone numbers,
ID numbers, e-mail addresses, personal names and house numbers masked; only the consumer
association sees the original. The patterns aim to keep the text useful: prices, amounts, dates,
order numbers, shop names and roads stay readable.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from core.text import character_class

# The most frequent Chinese surnames (compound ones first so that 欧阳 wins over 欧).
COMPOUND_SURNAMES = (
    "欧阳",
    "司马",
    "上官",
    "诸葛",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "长孙",
    "宇文",
    "司徒",
    "夏侯",
    "令狐",
    "端木",
    "轩辕",
    "澹台",
    "南宫",
    "西门",
    "呼延",
)
SINGLE_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕"
    "丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃"
    "武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒"
    "阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓"
    "古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣"
    "巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘"
    "满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普"
    "阙浦戈伏鹿薄邱雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭"
)
COMMON_SURNAMES = SINGLE_SURNAMES[:100]
_SURNAME = "(?:" + "|".join(COMPOUND_SURNAMES) + "|[" + SINGLE_SURNAMES + "])"

# Characters that end a name: particles, verbs and nouns that typically follow a name in a complaint
# ("张三在超市买了", "消费者李四投诉", "王五先生").
_NAME_STOP = (
    "在于的是了和与及跟同向对从到去来买购说称表投诉反映因今昨前后等也都就还又将把被给让先女师老电手号"
)
_NAME_CHAR = f"(?:(?![{_NAME_STOP}])[\u4e00-\u9fff])"
_GIVEN = f"(?!小姐){_NAME_CHAR}{_NAME_CHAR}?(?=[{_NAME_STOP}]|[^\u4e00-\u9fff]|$)"
# Surnames that are also everyday function words ("我和王先生", "本人于3月"): never read as a surname
# right after a cue, and "和王先生" is read as "和 + 王先生".
FUNCTION_WORD_SURNAMES = "和于向与时都那成将全应也还及同把给对从在"

# "我叫张三", "姓名：张三", "联系人:李四", "消费者王五投诉" - a name introduced by a cue word.
_NAME_CUE = re.compile(
    r"(?P<cue>我叫|本人叫?|名字叫|店长|经理|老板|店员|客服|负责人|姓名[:：\s]*|联系人[:：\s]*|投诉人[:：\s]*|申请人[:：\s]*|"
    r"当事人[:：\s]*|收货人[:：\s]*|署名[:：\s]*)"
    rf"(?![{FUNCTION_WORD_SURNAMES}])(?P<surname>{_SURNAME})(?P<given>{_GIVEN})"
)
# "消费者李四投诉": a name between a role and a verb of complaining ("消费者利益" is not a name).
_NAME_ROLE_VERB = re.compile(
    r"(?P<cue>消费者|顾客|市民|居民|业主|患者)"
    rf"(?![{FUNCTION_WORD_SURNAMES}])(?P<surname>{_SURNAME})(?P<given>{_NAME_CHAR}{{1,2}})"
    r"(?=投诉|反映|称|表示|说|来电|致电|来信|于|在)"
)
HONORIFICS = ("先生", "女士", "小姐")
# "张三先生" / "李四女士" (a bare "张先生" carries no given name and is kept). A two-character given
# name needs a boundary before the surname: in "我和游客唐女士" the name is 唐女士, not 游客唐.
_NAME_HONORIFIC = re.compile(
    rf"(?:(?:(?<=^)|(?<=[^\u4e00-\u9fff])|(?<=[叫是了的位名请找问给]))(?P<surname2>{_SURNAME})"
    rf"(?P<given2>{_NAME_CHAR}{{2}})|(?P<surname>{_SURNAME})(?P<given>{_NAME_CHAR}))(?=先生|女士|小姐)"
)

# Digits typed with separators ("138 1234 5678", "138.1234.5678", "138—1234—5678") are read as one
# number; a separator is one character between two digits.
_SEP = r"[\s.\-_·—–‐‑‒―~/]"
_NO_DIGIT_BEFORE = r"(?<![0-9A-Za-z])"
_NO_DIGIT_AFTER = r"(?![0-9A-Za-z])"
_DIGIT = re.compile("[0-9]")


def _spaced_digits(count: int) -> str:
    return rf"[0-9](?:{_SEP}?[0-9]){{{count - 1}}}"


_MOBILE = re.compile(
    rf"{_NO_DIGIT_BEFORE}(?:[(（]?(?:\+|00)?86[)）]?{_SEP}?)?(?P<number>1{_SEP}?[3-9](?:{_SEP}?[0-9]){{9}}){_NO_DIGIT_AFTER}"
)
_ID_NUMBER = re.compile(rf"{_NO_DIGIT_BEFORE}(?P<number>{_spaced_digits(17)}{_SEP}?[0-9Xx]){_NO_DIGIT_AFTER}")
_OLD_ID_NUMBER = re.compile(rf"{_NO_DIGIT_BEFORE}(?P<number>{_spaced_digits(15)}){_NO_DIGIT_AFTER}")
_BANK_CARD = re.compile(rf"{_NO_DIGIT_BEFORE}(?P<number>[0-9](?:{_SEP}?[0-9]){{15,18}}){_NO_DIGIT_AFTER}")
# Landlines need the area-code separator, a cue word or the full 10-12 digits with the leading 0;
# shorter bare digit runs are too often order numbers or amounts.
_LANDLINE = re.compile(
    rf"{_NO_DIGIT_BEFORE}[(（]?(?P<area>0[1-9][0-9]{{1,2}})[)）]?(?:{_SEP}|[)）])?"
    rf"(?P<local>[2-9](?:{_SEP}?[0-9]){{6,7}})(?:(?:{_SEP}|转)(?P<extension>[0-9]{{1,5}}))?{_NO_DIGIT_AFTER}"
)
_CUED_NUMBER = re.compile(
    r"(?P<cue>(?:电话|座机|手机|联系方式|联系电话|固话|tel|TEL|Tel|phone|Phone)(?:号码?)?(?:是|为)?[:：\s]*)"
    rf"(?P<number>{_spaced_digits(5)}(?:{_SEP}?[0-9]){{0,10}}){_NO_DIGIT_AFTER}"
)
# An 11-digit number right after "订单号" is an order number that merely looks like a mobile number.
_ORDER_NUMBER_CUE = re.compile(r"(?:订单|单号|编号|运单|流水|批号|No\.?)[号码]?[:：\s]*$", re.IGNORECASE)
# Messaging accounts and bank/member card numbers are personal too, but only recognisable by their cue.
_CUED_ACCOUNT = re.compile(
    r"(?P<cue>(?:QQ|qq|Qq|扣扣|企鹅号|微信|威信|薇信|V信|v信|wx|WX|Wx|vx|VX|Vx|wechat|WeChat|Wechat|"
    r"银行卡|卡号|账号|帐号|支付宝)(?:号码?|账号|帐号|id|ID)?(?:是|为)?[:：\s]*)"
    rf"(?P<account>[A-Za-z][A-Za-z0-9_\-]{{4,29}}|[0-9](?:{_SEP}?[0-9]){{4,22}})(?![A-Za-z0-9_\-])"
)
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])(?P<local>[A-Za-z0-9._%+\-]{1,64})\s*(?:@|\(at\)|\[at\])\s*"
    r"(?P<domain>[A-Za-z0-9\-]+(?:\s*[.。]\s*[A-Za-z0-9\-]+)*\s*[.。]\s*[A-Za-z]{2,})",
    re.IGNORECASE,
)

# A house number: after a road / estate anchor, numbers followed by 号 / 栋 / 单元 / 室 … are masked
# ("中山路123号" -> "中山路**号", "阳光小区3栋2单元501室" -> "阳光小区**栋**单元**室").
_ADDRESS_ANCHOR = "(?:大街|大道|胡同|小区|花园|公寓|大厦|家园|社区|新村|路|街|巷|弄|里|村|苑|园|城|庄|区)"
_ADDRESS_UNIT = "(?:号楼|号院|号|栋|幢|座|单元|室|门|户)"  # floors (楼/层) say little about a person
_ADDRESS_NUMBER_TEXT = r"(?:\d+(?:[-－]\d+)*|[A-Za-z]|[一二三四五六七八九十百零]+)"
_ADDRESS_PART = rf"[-－]?{_ADDRESS_NUMBER_TEXT}{_ADDRESS_UNIT}"
_ADDRESS = re.compile(rf"(?P<anchor>{_ADDRESS_ANCHOR})(?P<tail>(?:{_ADDRESS_PART})+)")
_ADDRESS_NUMBER = re.compile(
    rf"\d+|[A-Za-z](?={_ADDRESS_UNIT})|[一二三四五六七八九十百零]+(?={_ADDRESS_UNIT})"
)

MASK = "*"
# Part of every search document's source hash: a new version marks the whole index stale, so that
# ``fairmarket reindex --check --repair`` re-masks documents indexed by older rules.
MASKING_VERSION = 2
# Characters that NFKC reads as ASCII letters, digits or e-mail punctuation (full-width "１３８",
# "＠", circled or mathematical digits) and decimal digits of other scripts.
_MATCHED_ASCII = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ@.+-_")


@functools.cache
def _ascii_forms() -> dict[int, str]:
    table: dict[int, str] = {0x3000: " ", 0x00A0: " "}
    for code_point in range(0x80, 0x20000):
        char = chr(code_point)
        digit = unicodedata.decimal(char, None)
        if digit is not None:
            table[code_point] = str(digit)
            continue
        form = unicodedata.normalize("NFKC", char)
        if form != char and form and all(c in _MATCHED_ASCII for c in form):
            table[code_point] = form
    return table


@functools.cache
def _look_alike() -> re.Pattern[str]:
    """Any character of the table."""
    return re.compile(character_class(_ascii_forms()))


# The blocks nearly every complaint is written in alone: ASCII and Latin-1, punctuation, CJK symbols,
# ideographs and full-width forms.
_COMMON_BLOCKS = ((0x00, 0xFF), (0x2000, 0x206F), (0x3000, 0x303F), (0x4E00, 0x9FFF), (0xFF00, 0xFFEF))


@functools.cache
def _possibly_look_alike() -> re.Pattern[str]:
    """Any character but those of the common blocks the table leaves alone: a class of a few ranges,
    searched several times faster than the table's hundreds, so most texts skip that search."""
    table = _ascii_forms()
    plain = (code for first, last in _COMMON_BLOCKS for code in range(first, last + 1) if code not in table)
    return re.compile(character_class(plain, negated=True))


def normalize_for_matching(text: str) -> str:
    """Read look-alike digits, letters and ``＠`` as ASCII so one pattern matches every writing."""
    if _possibly_look_alike().search(text) is None or _look_alike().search(text) is None:
        return text  # most texts have none: no copy
    return text.translate(_ascii_forms())


def mask_name(name: str) -> str:
    """Keep the surname, mask the given name: 张三 -> 张*, 欧阳娜娜 -> 欧阳**."""
    name = name.strip()
    if not name:
        return name
    surname = next((s for s in COMPOUND_SURNAMES if name.startswith(s) and len(name) > len(s)), name[0])
    return surname + MASK * max(1, len(name) - len(surname))


def _digits(text: str) -> str:
    return "".join(c for c in text if c in "0123456789Xx")


def _after_order_cue(match: re.Match[str]) -> bool:
    return _ORDER_NUMBER_CUE.search(match.string, max(0, match.start() - 8), match.start()) is not None


def _keep_ends(digits: str, head: int, tail: int) -> str:
    return digits[:head] + MASK * (len(digits) - head - tail) + digits[-tail:]


def _valid_birth_date(yymmdd: str) -> bool:
    month, day = int(yymmdd[-4:-2]), int(yymmdd[-2:])
    return 1 <= month <= 12 and 1 <= day <= 31


def _id_checksum_ok(number: str) -> bool:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(number[:17], weights, strict=True))
    return "10X98765432"[total % 11] == number[17].upper()


def luhn_ok(digits: str) -> bool:
    """The check digit of bank card numbers (ISO/IEC 7812)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _mask_mobile(match: re.Match[str]) -> str:
    if _after_order_cue(match):
        return match.group(0)
    return _keep_ends(_digits(match.group("number")), 3, 4)


def _mask_id_number(match: re.Match[str]) -> str:
    number = _digits(match.group("number"))
    looks_like_id = number[6:8] in ("18", "19", "20") and _valid_birth_date(number[6:14])
    if _after_order_cue(match) or not (looks_like_id or _id_checksum_ok(number)):
        return match.group(0)
    return _keep_ends(number, 3, 4)


def _mask_old_id_number(match: re.Match[str]) -> str:
    number = _digits(match.group("number"))
    if _after_order_cue(match) or not _valid_birth_date(number[6:12]) or number[0] == "0":
        return match.group(0)
    return _keep_ends(number, 3, 4)


def _mask_bank_card(match: re.Match[str]) -> str:
    number = _digits(match.group("number"))
    if _after_order_cue(match) or not luhn_ok(number):
        return match.group(0)
    return _keep_ends(number, 4, 4)


def _mask_landline(match: re.Match[str]) -> str:
    if _after_order_cue(match):
        return match.group(0)
    local = _digits(match.group("local"))
    return f"{match.group('area')}-{MASK * (len(local) - 4)}{local[-4:]}"


def _mask_cued_number(match: re.Match[str]) -> str:
    return match.group("cue") + _keep_ends(_digits(match.group("number")), 0, 4)


def _mask_cued_account(match: re.Match[str]) -> str:
    account = match.group("account")
    if account[0].isdigit():
        account = _digits(account)
    return match.group("cue") + account[:2] + MASK * (len(account) - 4) + account[-2:]


def _mask_email(match: re.Match[str]) -> str:
    domain = re.sub(r"\s*[.。]\s*", ".", match.group("domain"))
    return f"{match.group('local')[0]}***@{domain}"


def _mask_named(match: re.Match[str]) -> str:
    masked = match.group("surname") + MASK * len(match.group("given"))
    return match.group(0).replace(match.group("surname") + match.group("given"), masked, 1)


def _mask_honorific(match: re.Match[str]) -> str:
    surname = match.group("surname2") or match.group("surname")
    given = match.group("given2") or match.group("given")
    if given[0] in SINGLE_SURNAMES and (surname in FUNCTION_WORD_SURNAMES or surname not in COMMON_SURNAMES):
        return match.group(0)  # "和王先生", "南岗区龙女士": the second character is the surname
    return surname + MASK * len(given)


def _mask_address(match: re.Match[str]) -> str:
    return match.group("anchor") + _ADDRESS_NUMBER.sub(MASK * 2, match.group("tail"))


def mask_personal_data(text: str) -> str:
    """Return ``text`` with phone/ID/card numbers, accounts, e-mails, names and house numbers masked.

    The text is first read with look-alike characters as ASCII (full-width digits, ``＠``), so the
    masked text shows those in ASCII.
    """
    if not text:
        return text
    text = normalize_for_matching(text)
    if "@" in text or "at]" in text.lower() or "at)" in text.lower():
        text = _EMAIL.sub(_mask_email, text)
    text = _CUED_ACCOUNT.sub(_mask_cued_account, text)
    if _DIGIT.search(text):  # masking only removes digits: without one, no number pattern matches
        text = _ID_NUMBER.sub(_mask_id_number, text)
        text = _BANK_CARD.sub(_mask_bank_card, text)
        text = _OLD_ID_NUMBER.sub(_mask_old_id_number, text)
        text = _MOBILE.sub(_mask_mobile, text)
        text = _LANDLINE.sub(_mask_landline, text)
        text = _CUED_NUMBER.sub(_mask_cued_number, text)
    text = _NAME_CUE.sub(_mask_named, text)
    text = _NAME_ROLE_VERB.sub(_mask_named, text)
    if any(honorific in text for honorific in HONORIFICS):  # what the pattern's lookahead needs
        text = _NAME_HONORIFIC.sub(_mask_honorific, text)
    return _ADDRESS.sub(_mask_address, text)


def mask_optional(text: str | None) -> str | None:
    """:func:`mask_personal_data` for a field that may be empty."""
    return mask_personal_data(text) if text else text


def mask_contact(contact: str) -> str:
    """A contact field is personal whatever it holds: masked by the rules, or else all but its last two
    characters (a bare WeChat id or a nickname has no keyword for the rules to find)."""
    masked = mask_personal_data(contact)
    if masked != normalize_for_matching(contact):
        return masked
    return MASK * max(1, len(contact) - 2) + contact[-2:] if len(contact) > 2 else MASK * len(contact)
