"""A labelled set for claim matching: stories (claims), their reports, and unrelated noise.

Each story is a false claim about an ethnic group in a province, with its own details and a
page where it was seen. It is reported 1-5 times: the same text, without diacritics, with other
words (synonyms, filler, a dropped word), or only its link with other tracking parameters and a
short note. Noise reports are unrelated stories, some built from the same templates with another
group and province (the hard cases for precision). Seeded: the same set every run.
"""

import random
from dataclasses import dataclass, field

from app.text import fold

GROUPS = [
    "Mông",
    "Dao",
    "Tày",
    "Nùng",
    "Thái",
    "Khơ Mú",
    "Gia Rai",
    "Ê Đê",
    "Ba Na",
    "Xơ Đăng",
    "Hà Nhì",
    "Lô Lô",
    "Pà Thẻn",
    "La Chí",
    "Giáy",
    "Cống",
    "Si La",
    "Lào",
    "Lự",
    "Mảng",
    "Xinh Mun",
    "Kháng",
    "Tà Ôi",
    "Bru-Vân Kiều",
]
PLACES = [
    "Điện Biên",
    "Lai Châu",
    "Lào Cai",
    "Tuyên Quang",
    "Cao Bằng",
    "Lạng Sơn",
    "Quảng Ninh",
    "Sơn La",
    "Thanh Hóa",
    "Nghệ An",
    "Hà Tĩnh",
    "Quảng Trị",
    "Huế",
    "Đà Nẵng",
    "Quảng Ngãi",
    "Gia Lai",
    "Đắk Lắk",
    "Lâm Đồng",
    "Tây Ninh",
    "An Giang",
    "Đồng Tháp",
    "Kon Tum",
    "Mường Tè",
    "Sìn Hồ",
]
TEMPLATES = [
    "chính quyền sẽ thu hồi đất rừng của đồng bào {g} ở {p}",
    "trẻ em người {g} ở {p} bị cấm học tiếng mẹ đẻ",
    "vắc xin phát cho bà con {g} tại {p} gây vô sinh",
    "nhà máy thủy điện ở {p} sắp xả lũ nhấn chìm bản người {g}",
    "người {g} ở {p} bị ép bỏ đạo",
    "tiền hỗ trợ nhà ở cho hộ nghèo người {g} tại {p} bị cắt hết",
    "biên phòng {p} bắt giữ {n} người {g} vô cớ",
    "người {g} ở {p} phải nộp {n} triệu đồng để được cấp sổ đỏ",
    "trường nội trú ở {p} không nhận học sinh người {g}",
    "đồng bào {g} ở {p} bị cấm tổ chức lễ hội truyền thống",
    "bệnh viện {p} từ chối chữa bệnh cho người {g} không có thẻ",
    "nước giếng ở {p} bị nhiễm độc khiến {n} người {g} tử vong",
    "sắp có lệnh di dời toàn bộ bản người {g} ở {p} để làm dự án",
    "người {g} đi làm thuê qua cửa khẩu {p} được trả {n} nghìn đô mỗi tháng",
    "gạo cứu đói phát cho người {g} ở {p} là gạo mốc",
]
DETAILS = [
    "theo một tài khoản tự xưng là cán bộ xã",
    "kèm ảnh chụp một văn bản không có dấu",
    "video được chia sẻ hàng nghìn lần",
    "bài đăng kêu gọi bà con không ký giấy tờ",
    "người đăng nói đã có danh sách",
    "có cả ghi âm cuộc họp thôn",
    "tin nhắn lan truyền qua nhóm Zalo",
    "một trang lạ ở nước ngoài đăng lại",
    "kêu gọi tụ tập trước trụ sở",
    "nói rằng báo chí bị cấm đưa tin",
    "dọa ai không nghe sẽ bị phạt",
    "hướng dẫn bán đất gấp trước tháng sau",
    "khẳng định lệnh đã ký từ tuần trước",
    "đăng kèm bản đồ khoanh vùng",
    "nhắc tên một trưởng bản",
    "kêu gọi không cho con đi tiêm",
    "nói trạm y tế đã nhận tiền",
    "đòi mỗi hộ đóng góp để khiếu nại",
]
SYNONYMS = {
    "thu hồi": "lấy lại",
    "đồng bào": "bà con",
    "chính quyền": "nhà nước",
    "bị cấm": "không được phép",
    "sắp": "sẽ sớm",
    "trẻ em": "các cháu",
    "vô cớ": "không lý do",
    "bắt giữ": "bắt",
    "từ chối": "không chịu",
    "tử vong": "chết",
    "toàn bộ": "cả",
    "không nhận": "không cho nhập học",
    "bị cắt hết": "bị cắt",
    "phát cho": "cấp cho",
}
FILLERS = ["Nghe nói", "Có tin", "Mọi người chia sẻ:", "Cảnh báo:", "Thấy trên mạng nói", "Bà con truyền nhau"]
NOISE = [
    "giá cà phê {p} tăng mạnh tuần này",
    "đội bóng {p} thắng trận chung kết",
    "mưa đá ở {p} làm hỏng hoa màu",
    "lễ hội mùa xuân của người {g} ở {p} thu hút du khách",
    "đường lên bản ở {p} đã được trải nhựa",
    "hợp tác xã chè {p} xuất khẩu lô hàng đầu tiên",
    "xe khách {p} đổi giờ chạy",
    "chợ phiên {p} họp vào chủ nhật",
]
PLATFORMS = [
    ("https://www.facebook.com/groups/{a}/posts/{b}", "facebook"),
    ("https://www.youtube.com/watch?v=v{a}x{b}", "youtube"),
    ("https://www.tiktok.com/@acc{a}/video/{b}", "tiktok"),
]
TRACKING = ["utm_source=share", "fbclid=IwAR{n}", "gclid={n}", "utm_medium=social&utm_campaign=c{n}", "si={n}"]


@dataclass
class Report:
    summary: str
    excerpt: str = ""
    urls: list[str] = field(default_factory=list)
    story: int | None = None  # None: noise


@dataclass
class Story:
    index: int
    text: str
    detail: str
    url: str
    reports: list[Report] = field(default_factory=list)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _url_variant(rng: random.Random, url: str) -> str:
    if rng.random() < 0.5:
        url = url.replace("https://www.", rng.choice(["http://", "https://", "http://www.", "https://m."]))
    params = "&".join(rng.sample(TRACKING, rng.randint(1, 2))).format(n=rng.randint(1000, 9999))
    joiner = "&" if "?" in url else "?"
    return (
        f"{url}{'/' if rng.random() < 0.3 and '?' not in url else ''}{joiner}{params}#{rng.choice(['', 'c1', 'top'])}"
    )


def _paraphrase(rng: random.Random, text: str) -> str:
    for word, other in SYNONYMS.items():
        if word in text and rng.random() < 0.6:
            text = text.replace(word, other)
    tokens = text.split()
    if len(tokens) > 8 and rng.random() < 0.5:
        tokens.pop(rng.randrange(2, len(tokens)))
    return f"{rng.choice(FILLERS)} {' '.join(tokens)}"


def _report(rng: random.Random, story: Story, first: bool) -> Report:
    if first:
        return Report(
            f"{story.text}, {story.detail}", urls=[story.url] if rng.random() < 0.7 else [], story=story.index
        )
    kind = rng.choice(["copy", "folded", "paraphrase", "paraphrase", "link"])
    urls = [_url_variant(rng, story.url)] if kind == "link" or rng.random() < 0.3 else []
    if kind == "copy":
        text = f"{story.text}, {story.detail}"
    elif kind == "folded":
        text = fold(f"{story.text} {story.detail}")
    elif kind == "paraphrase":
        text = _paraphrase(rng, story.text) + (f", {story.detail}" if rng.random() < 0.5 else "")
    else:
        text = rng.choice(["Xem bài này", "Bài này đang lan truyền", "Link bà con gửi"])
    if rng.random() < 0.5 and kind != "link":
        text = fold(text)
    return Report(text, urls=urls, story=story.index)


def build(n_stories: int = 500, n_noise: int = 300, seed: int = 2026) -> tuple[list[Story], list[Report]]:
    """The stories (each with its reports, the first one first) and every report in arrival order."""
    rng = random.Random(seed)
    combos = rng.sample([(t, g, p) for t in TEMPLATES for g in GROUPS for p in PLACES], n_stories + n_noise // 3)
    stories = []
    for index, (template, group, place) in enumerate(combos[:n_stories]):
        text = _sentence(template.format(g=group, p=place, n=rng.randint(2, 90)))
        base, platform = rng.choice(PLATFORMS)
        url = base.format(a=rng.randint(10**5, 10**6), b=rng.randint(10**8, 10**9))
        story = Story(index, text, rng.choice(DETAILS), url)
        story.reports = [_report(rng, story, first=(i == 0)) for i in range(rng.randint(1, 5))]
        stories.append(story)
    noise = [
        Report(_sentence(template.format(g=group, p=place, n=rng.randint(2, 90))))
        for template, group, place in combos[n_stories:]
    ]
    noise += [
        Report(_sentence(rng.choice(NOISE).format(g=rng.choice(GROUPS), p=rng.choice(PLACES))))
        for _ in range(n_noise - len(noise))
    ]
    # Arrival order: each story's first report before its others; noise anywhere.
    queue = [story.reports[0] for story in stories]
    later = [r for story in stories for r in story.reports[1:]] + noise
    rng.shuffle(later)
    cut = len(queue) // 2
    arrivals = queue[:cut] + sorted(later + queue[cut:], key=lambda _: rng.random())
    seen: set[int] = set()
    ordered: list[Report] = []
    pending: dict[int, list[Report]] = {}
    for report in arrivals:
        if report.story is not None and report.story not in seen and report is not stories[report.story].reports[0]:
            pending.setdefault(report.story, []).append(report)
            continue
        ordered.append(report)
        if report.story is not None and report.story not in seen:
            seen.add(report.story)
            ordered += pending.pop(report.story, [])
    return stories, ordered
