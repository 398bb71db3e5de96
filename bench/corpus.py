"""Deterministic generator of realistic ttdn-hub materials for benchmarks (stdlib only, no network).

    python bench/corpus.py --count 100000 --seed 7 --out bench/out/corpus.ndjson

writes one JSON object per line with the fields of seed/demo_materials.json: title, summary,
body (Markdown), kind, language, ethnic_groups (2008 codes), border_routes (codes), provinces
(names of provinces valid today, i.e. the post_2025_07 rows of seed/border_provinces.csv, each on
one of the item's routes), topics (slugs), classification, source, status. The same seed and count
give byte-identical output on any machine (no set iteration, no hashing, no clock).

Text is assembled from Vietnamese phrase banks about the project's topics. Items tagged `en` get
English text; items tagged `km`, `hnj`, `lo` or `zh` carry the Vietnamese catalogue text (title,
summary, description) of a material in that language, so that they stay searchable in Vietnamese.

`queries(n=200, seed=11)` returns a fixed mix of parameter dicts for `GET /api/v1/search`:

    from bench.corpus import queries
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
import unicodedata
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from itertools import accumulate
from pathlib import Path
from typing import Any

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "seed"
SOURCE = "Dữ liệu tổng hợp cho kiểm thử hiệu năng (bench/corpus.py), không phải tài liệu thật"

# --------------------------------------------------------------------------------------------
# Distributions
# --------------------------------------------------------------------------------------------

# Ethnic groups (2008 codes) from most to least often tagged; weight of rank r is 1 / (r + 1) ** 1.1.
GROUP_RANKING = [
    "08",
    "02",
    "03",
    "09",
    "05",
    "07",
    "10",
    "11",
    "12",
    "16",
    "24",
    "23",
    "04",
    "06",
    "35",
    "33",
    "14",
    "20",
    "15",
    "27",
    "25",
    "18",
    "26",
    "13",
    "17",
    "22",
    "44",
    "29",
    "30",
    "28",
    "45",
    "21",
    "19",
    "31",
    "34",
    "37",
    "32",
    "40",
    "38",
    "39",
    "41",
    "42",
    "36",
    "43",
    "49",
    "50",
    "46",
    "47",
    "48",
    "51",
    "52",
    "53",
    "54",
]
GROUP_WEIGHT = {code: 1.0 / (rank + 1) ** 1.1 for rank, code in enumerate(GROUP_RANKING)}

# Post-merger border provinces: relative weight and the groups that mainly live there (2008 codes).
PROVINCES: dict[str, tuple[int, list[str]]] = {
    "Quảng Ninh": (5, ["09", "02", "17", "13", "06", "07", "43"]),
    "Lạng Sơn": (6, ["07", "02", "09", "06", "17", "08"]),
    "Cao Bằng": (7, ["02", "07", "08", "09", "45", "13"]),
    "Tuyên Quang": (8, ["08", "02", "09", "07", "13", "45", "41", "36", "47", "51", "48", "26", "17"]),
    "Lào Cai": (9, ["08", "02", "09", "26", "33", "38", "48", "03", "07", "23"]),
    "Lai Châu": (7, ["08", "03", "09", "33", "26", "39", "42", "46", "49", "50", "37", "23"]),
    "Điện Biên": (8, ["03", "08", "23", "35", "33", "32", "37", "49", "50", "09"]),
    "Sơn La": (7, ["03", "08", "04", "09", "23", "32", "37", "40", "35"]),
    "Thanh Hóa": (5, ["04", "03", "08", "09", "21", "23"]),
    "Nghệ An": (7, ["03", "08", "23", "21", "54"]),
    "Hà Tĩnh": (3, ["44", "03", "04"]),
    "Quảng Trị": (5, ["24", "27", "44"]),
    "Huế": (2, ["27", "25", "24"]),
    "Đà Nẵng": (2, ["25", "29", "16", "30"]),
    "Quảng Ngãi": (4, ["16", "18", "30", "12", "29", "53", "52", "10"]),
    "Gia Lai": (5, ["10", "12", "18", "14", "02", "07"]),
    "Đắk Lắk": (4, ["11", "10", "20", "02", "07", "08", "09", "14", "12"]),
    "Lâm Đồng": (3, ["15", "20", "28", "34", "19", "14", "08", "02", "07", "09"]),
    "Đồng Nai": (2, ["22", "31", "28", "05", "06", "20", "07"]),
    "Tây Ninh": (3, ["05", "14", "06"]),
    "Đồng Tháp": (2, ["05", "06"]),
    "An Giang": (6, ["05", "14", "06"]),
}

ROUTE_WEIGHTS = {"VN-CN": 40, "VN-LA": 36, "VN-KH": 24}
ROUTE_PHRASE = {
    "VN-CN": "biên giới Việt - Trung",
    "VN-LA": "biên giới Việt - Lào",
    "VN-KH": "biên giới Việt Nam - Campuchia",
}
ROUTE_NEIGHBOUR = {"VN-CN": "Trung Quốc", "VN-LA": "Lào", "VN-KH": "Campuchia"}
ROUTE_NEIGHBOUR_EN = {"VN-CN": "China", "VN-LA": "Laos", "VN-KH": "Cambodia"}

KIND_WEIGHTS = {
    "article": 30,
    "news": 28,
    "video": 8,
    "image": 7,
    "infographic": 6,
    "audio": 5,
    "leaflet": 5,
    "radio_script": 4,
    "document": 4,
    "book": 3,
}
LANGUAGE_WEIGHTS = {"vi": 900, "en": 40, "km": 25, "hnj": 20, "lo": 10, "zh": 5}
LANGUAGE_NAME_VI = {"km": "Khmer", "hnj": "Mông", "lo": "Lào", "zh": "Trung Quốc"}
LANGUAGE_AUDIENCE_VI = {
    "km": "đồng bào Khmer",
    "hnj": "đồng bào Mông",
    "lo": "bà con hai bên biên giới Việt - Lào",
    "zh": "bà con hai bên biên giới Việt - Trung",
}
TOPIC_WEIGHTS = {
    "ethnic-policy": 14,
    "socio-economic-development": 14,
    "culture-heritage": 12,
    "legal-education": 11,
    "border-friendship": 10,
    "rights-achievements": 9,
    "digital-transformation": 9,
    "cyber-safety": 8,
    "rebuttal-false-information": 7,
    "reading-culture": 6,
}
STATUS_WEIGHTS = {"published": 70, "approved": 10, "in_review": 10, "draft": 10}
CLASSIFICATION_WEIGHTS = {"public": 92, "internal": 8}

# --------------------------------------------------------------------------------------------
# Phrase banks. Slots: {dt} ethnic group name, {tinh} province (or "các tỉnh biên giới"),
# {bg} "biên giới Việt - Lào" etc., {nuoc} the neighbouring country. An action is
# "Subject; Other subject | predicate": one of the subjects that fit it, then the predicate.
# --------------------------------------------------------------------------------------------

# Tails of an action sentence: when, where (only after an action that names no place), which province.
TAILS_TIME = [
    "trong thời gian qua",
    "từ đầu năm đến nay",
    "trong tháng này",
    "với sự tham gia của đông đảo bà con",
    "theo kế hoạch của tỉnh",
    "trong dịp cuối tuần",
    "một cách thường xuyên",
    "trong năm nay",
]
TAILS_PLACE = [
    "tại nhà văn hóa thôn",
    "vào các buổi chợ phiên",
    "ở các bản dọc tuyến {bg}",
    "ngay tại thôn, bản",
    "ở các xã vùng sâu, vùng xa",
]
TAILS_PROVINCE = ["trên địa bàn {tinh}", "tại các xã biên giới của {tinh}"]

GENERIC = [
    "Công tác tuyên truyền được thực hiện bằng nhiều hình thức phong phú, phù hợp với phong tục, tập quán "
    "của đồng bào {dt}.",
    "Nội dung tuyên truyền ngắn gọn, dễ hiểu, có hình ảnh minh họa sinh động.",
    "Người có uy tín trong cộng đồng đóng vai trò quan trọng trong việc vận động bà con.",
    "Cán bộ, chiến sĩ biên phòng luôn gần dân, hiểu dân và giúp dân.",
    "Nhiều buổi tuyên truyền được tổ chức song ngữ để bà con dễ tiếp nhận.",
    "Các hoạt động đều hướng tới nâng cao đời sống vật chất và tinh thần của người dân vùng biên.",
    "Sự đồng thuận của nhân dân là yếu tố quyết định thành công của mỗi phong trào.",
    "Bà con tích cực tham gia và đóng góp nhiều ý kiến thiết thực.",
    "Việc phối hợp giữa các lực lượng ở cơ sở ngày càng chặt chẽ, hiệu quả.",
    "Nhiều mô hình hay, cách làm sáng tạo đã xuất hiện ở các thôn, bản dọc tuyến {bg}.",
]

CONNECTORS = [
    "Nhờ đó",
    "Đến nay",
    "Qua đó",
    "Nhờ vậy",
    "Sau một thời gian triển khai",
    "Theo đánh giá của địa phương",
    "Bước đầu",
    "Từ những việc làm cụ thể ấy",
]

QUOTES = [
    "Bây giờ bà con trong bản đã hiểu hơn nhiều",
    "Chúng tôi mong có thêm nhiều lớp học như thế này",
    "Có cán bộ hướng dẫn tận tình nên tôi làm được ngay",
    "Giữ bản làng bình yên là việc của mỗi gia đình",
    "Con cháu mình phải biết chữ, biết giữ văn hóa của dân tộc mình",
    "Có việc gì không rõ, tôi lại hỏi cán bộ xã và bộ đội biên phòng",
    "Cuộc sống bây giờ đã khác xưa nhiều lắm",
    "Đường sá thuận lợi, con cái được đi học đầy đủ, bà con rất phấn khởi",
]
SPEAKERS = [
    "một người dân trong bản",
    "trưởng bản",
    "một già làng",
    "một phụ nữ {dt}",
    "một đoàn viên thanh niên",
    "cán bộ văn hóa xã",
    "một người có uy tín trong đồng bào {dt}",
]

OPENERS = [
    "Ở các xã dọc tuyến {bg}, đời sống của đồng bào {dt} đang có nhiều đổi thay.",
    "Những năm gần đây, vùng đồng bào dân tộc thiểu số ở khu vực biên giới có nhiều chuyển biến tích cực.",
    "Khu vực {bg} là địa bàn sinh sống lâu đời của nhiều dân tộc anh em, trong đó có đồng bào {dt}.",
    "Công tác thông tin, tuyên truyền ở vùng biên luôn được các cấp, các ngành quan tâm.",
]
OPENERS_WITH_PROVINCE = [
    "{tinh} là địa bàn có đông đồng bào {dt} sinh sống.",
    "Tại {tinh}, nhiều cách làm hay đang được triển khai ở các xã biên giới.",
]
CLOSERS = [
    "Thời gian tới, địa phương tiếp tục duy trì và nhân rộng các cách làm hiệu quả.",
    "Đây là cách làm thiết thực, cần được nhân rộng ở các địa bàn khác.",
    "Các hoạt động góp phần củng cố khối đại đoàn kết các dân tộc và thế trận lòng dân nơi biên giới.",
    "Mọi thắc mắc, bà con có thể liên hệ chính quyền xã hoặc đồn biên phòng gần nhất.",
    "Những kết quả bước đầu là tiền đề để vùng biên tiếp tục phát triển nhanh và bền vững.",
]

TOPIC_BANKS: dict[str, dict[str, list[str]]] = {
    "ethnic-policy": {
        "titles": [
            "triển khai chính sách hỗ trợ đồng bào dân tộc thiểu số",
            "chính sách dân tộc đi vào cuộc sống",
            "hỗ trợ nhà ở và đất sản xuất cho hộ nghèo",
            "chăm lo người có uy tín trong cộng đồng",
            "ưu đãi tín dụng cho vùng đồng bào dân tộc thiểu số",
            "đào tạo, bồi dưỡng cán bộ người dân tộc thiểu số",
            "hỗ trợ nước sinh hoạt cho bản vùng cao",
            "đào tạo nghề cho thanh niên dân tộc thiểu số",
        ],
        "acts": [
            "Ủy ban nhân dân xã; Ban quản lý thôn, bản | "
            "đã rà soát, lập danh sách các hộ được hỗ trợ nhà ở và đất sản xuất",
            "Sở Dân tộc và Tôn giáo; Ủy ban nhân dân xã | "
            "tổ chức hội nghị phổ biến chính sách dân tộc đến từng thôn, bản",
            "Ngân hàng Chính sách xã hội; Phòng giao dịch Ngân hàng Chính sách xã hội | "
            "phối hợp giải ngân nguồn vốn vay ưu đãi cho hộ đồng bào {dt}",
            "Sở Dân tộc và Tôn giáo; Ủy ban Mặt trận Tổ quốc xã; Đồn Biên phòng | "
            "thăm hỏi, tặng quà người có uy tín trong đồng bào {dt}",
            "Cán bộ xã; Cán bộ phụ trách công tác dân tộc | "
            "hướng dẫn bà con thủ tục đề nghị hỗ trợ nước sinh hoạt phân tán",
            "Sở Dân tộc và Tôn giáo; Trường Chính trị tỉnh | "
            "mở lớp bồi dưỡng kiến thức cho cán bộ thôn, bản người dân tộc thiểu số",
            "Ủy ban nhân dân xã; Ban quản lý thôn, bản | "
            "công khai danh sách đối tượng thụ hưởng chính sách tại nhà văn hóa thôn",
            "Đoàn công tác của tỉnh; Ủy ban Mặt trận Tổ quốc xã | "
            "lắng nghe ý kiến của bà con về việc thực hiện chính sách",
            "Chính quyền địa phương; Các cấp, các ngành | "
            "đưa các chương trình mục tiêu quốc gia đến với từng hộ đồng bào {dt}",
            "Hội Nông dân xã; Ủy ban nhân dân xã | hỗ trợ con giống, cây giống cho các hộ đồng bào {dt} còn khó khăn",
        ],
        "results": [
            "nhiều hộ đồng bào {dt} đã có nhà ở kiên cố, yên tâm lao động sản xuất",
            "tỷ lệ hộ nghèo ở các xã biên giới giảm qua từng năm",
            "đồng bào hiểu rõ hơn quyền lợi và trách nhiệm của mình khi thụ hưởng chính sách",
            "niềm tin của đồng bào {dt} vào chủ trương của Đảng, chính sách của Nhà nước tiếp tục được củng cố",
            "đội ngũ cán bộ người dân tộc thiểu số ở cơ sở ngày càng vững vàng",
            "các công trình nước sạch đã đến với nhiều bản vùng cao",
            "người có uy tín phát huy tốt vai trò cầu nối giữa chính quyền và nhân dân",
        ],
        "facts": [
            "Chính sách dân tộc là nội dung xuyên suốt, nhất quán trong quá trình phát triển đất nước.",
            "Các chính sách hỗ trợ được công khai, minh bạch để người dân cùng giám sát.",
            "Mỗi chính sách chỉ thực sự hiệu quả khi được người dân hiểu và đồng thuận.",
            "Việc lựa chọn đối tượng thụ hưởng được bình xét dân chủ tại cuộc họp thôn, bản.",
            "Nguồn lực hỗ trợ được ưu tiên cho các xã đặc biệt khó khăn và vùng biên giới.",
        ],
        "tips": [
            "Hỏi trưởng thôn, bản về các chính sách mà gia đình được hưởng",
            "Giữ gìn giấy tờ khi nhận hỗ trợ",
            "Phản ánh với chính quyền xã nếu thấy việc thực hiện chưa đúng",
            "Sử dụng vốn vay đúng mục đích và trả nợ đúng hạn",
            "Tham gia bình xét hộ nghèo công khai tại thôn, bản",
        ],
    },
    "rights-achievements": {
        "titles": [
            "thành tựu bảo đảm quyền của đồng bào dân tộc thiểu số",
            "quyền được học tập của trẻ em vùng biên",
            "bảo đảm quyền chăm sóc sức khỏe cho đồng bào vùng cao",
            "phụ nữ dân tộc thiểu số tham gia công việc của cộng đồng",
            "quyền sử dụng tiếng nói, chữ viết của các dân tộc",
            "trẻ em vùng cao được đến trường đầy đủ",
            "bảo đảm an sinh xã hội cho người cao tuổi vùng biên",
        ],
        "acts": [
            "Nhà trường; Giáo viên các điểm trường; Đồn Biên phòng | vận động trẻ em trong độ tuổi ra lớp đầy đủ",
            "Trạm y tế xã; Quân y Đồn Biên phòng | tổ chức khám bệnh, cấp thuốc miễn phí cho đồng bào {dt}",
            "Sở Giáo dục và Đào tạo; Sở Dân tộc và Tôn giáo | "
            "mở lớp dạy tiếng {dt} cho cán bộ, giáo viên công tác tại địa bàn",
            "Trường Phổ thông dân tộc bán trú; Ủy ban nhân dân xã | hỗ trợ tiền ăn, chỗ ở cho học sinh bán trú",
            "Cơ quan bảo hiểm xã hội; Ủy ban nhân dân xã | "
            "cấp thẻ bảo hiểm y tế cho người dân ở các xã đặc biệt khó khăn",
            "Công chức tư pháp xã; Cán bộ xã | tuyên truyền về quyền và nghĩa vụ của công dân tại các buổi họp bản",
            "Hội Liên hiệp Phụ nữ xã; Hội Liên hiệp Phụ nữ tỉnh | "
            "tạo điều kiện cho phụ nữ {dt} tham gia lớp tập huấn kỹ năng lãnh đạo",
            "Nhà trường; Các trường mầm non | duy trì các lớp học song ngữ cho trẻ em người {dt}",
            "Trung tâm Trợ giúp pháp lý nhà nước; Sở Tư pháp | "
            "tổ chức trợ giúp pháp lý miễn phí cho người dân tộc thiểu số",
        ],
        "results": [
            "hầu hết trẻ em trong độ tuổi đã được đến trường",
            "đồng bào {dt} được tiếp cận dịch vụ y tế ngay tại xã",
            "nhiều người con của đồng bào {dt} đã trở thành giáo viên, bác sĩ, cán bộ cơ sở",
            "tỷ lệ phụ nữ dân tộc thiểu số tham gia cấp ủy, chính quyền cơ sở từng bước tăng",
            "tiếng nói, chữ viết của các dân tộc được gìn giữ trong nhà trường và cộng đồng",
            "người cao tuổi và trẻ em được quan tâm, chăm sóc chu đáo hơn",
        ],
        "facts": [
            "Hiến pháp khẳng định các dân tộc bình đẳng, đoàn kết, tôn trọng và giúp nhau cùng phát triển.",
            "Các dân tộc có quyền dùng tiếng nói, chữ viết, giữ gìn bản sắc và phát huy phong tục tốt đẹp của mình.",
            "Bảo đảm quyền con người gắn liền với nâng cao đời sống vật chất và tinh thần của người dân.",
            "Những đổi thay ở vùng biên là minh chứng rõ nét cho thành tựu bảo đảm quyền của đồng bào "
            "dân tộc thiểu số.",
            "Nhiều trường học, trạm y tế được xây mới ở những nơi trước đây còn rất khó khăn.",
        ],
        "tips": [
            "Đưa trẻ đến trường đúng độ tuổi",
            "Đi khám sức khỏe định kỳ tại trạm y tế xã",
            "Liên hệ trợ giúp pháp lý miễn phí khi cần",
            "Tham gia họp thôn, bản và góp ý với chính quyền",
        ],
    },
    "rebuttal-false-information": {
        "titles": [
            "cách nhận biết tin giả trên mạng xã hội",
            "tỉnh táo trước thông tin sai sự thật",
            "kiểm chứng thông tin trước khi chia sẻ",
            "không nghe, không tin, không làm theo tin đồn thất thiệt",
            "nhận diện ảnh, video bị cắt ghép",
            "người có uy tín giúp bà con phân biệt tin thật, tin giả",
            "phản bác thông tin sai lệch về chính sách dân tộc",
            "chia sẻ thông tin có trách nhiệm",
        ],
        "acts": [
            "Đồn Biên phòng; Công an xã; Đoàn Thanh niên xã | "
            "tổ chức buổi sinh hoạt hướng dẫn bà con nhận biết tin giả",
            "Đài truyền thanh xã; Ủy ban nhân dân xã | "
            "cung cấp thông tin chính thống qua loa truyền thanh và nhóm mạng xã hội của bản",
            "Chính quyền địa phương; Ủy ban nhân dân xã | "
            "kịp thời giải thích khi trên mạng xuất hiện thông tin sai sự thật về địa phương",
            "Đoàn Thanh niên xã; Nhóm thanh niên tình nguyện | "
            "hướng dẫn thanh niên cách kiểm tra nguồn gốc một bức ảnh",
            "Cán bộ xã; Đồn Biên phòng | đối thoại trực tiếp với đồng bào {dt} để làm rõ những thắc mắc",
            "Ủy ban Mặt trận Tổ quốc xã; Đồn Biên phòng | "
            "phối hợp với người có uy tín để gỡ bỏ những hiểu lầm trong cộng đồng",
            "Ủy ban nhân dân xã | đăng tải thông tin đính chính trên trang thông tin điện tử của xã",
        ],
        "results": [
            "bà con đã biết hỏi lại cán bộ trước khi tin và chia sẻ một thông tin lạ",
            "các tin đồn thất thiệt không còn cơ hội lan rộng trong bản",
            "đồng bào {dt} ngày càng tỉnh táo trước những lời xúi giục, kích động",
            "thông tin chính thống đến với người dân nhanh hơn, đầy đủ hơn",
            "thanh niên trở thành những người tuyên truyền tích cực trên mạng xã hội",
        ],
        "facts": [
            "Tin giả thường có tiêu đề giật gân, không rõ nguồn và kêu gọi chia sẻ gấp.",
            "Một bức ảnh cũ có thể bị gán cho một sự việc mới để gây hiểu lầm.",
            "Trước khi chia sẻ, hãy tự hỏi ai đăng tin, đăng khi nào và có trang tin chính thống nào đưa tin không.",
            "Chia sẻ tin giả có thể gây hoang mang cho cộng đồng và bị xử lý theo quy định của pháp luật.",
            "Nguồn tin chính thống gồm trang thông tin của cơ quan nhà nước, báo chí và loa truyền thanh của xã.",
        ],
        "tips": [
            "Dừng lại, đừng chia sẻ ngay",
            "Xem ai là người đăng tin",
            "Tìm tin trên các trang báo chính thống",
            "Hỏi cán bộ xã hoặc đồn biên phòng khi còn nghi ngờ",
            "Cảnh giác với ảnh, video không rõ thời gian, địa điểm",
        ],
    },
    "border-friendship": {
        "titles": [
            "tình hữu nghị bên cột mốc {bg}",
            "giao lưu nhân dân hai bên {bg}",
            "kết nghĩa cụm dân cư hai bên biên giới",
            "xây dựng đường biên giới hòa bình, hữu nghị, hợp tác",
            "chung tay bảo vệ đường biên, cột mốc",
            "mỗi người dân là một cột mốc sống",
            "tuần tra song phương trên tuyến {bg}",
            "phiên chợ biên giới gắn kết tình láng giềng",
        ],
        "acts": [
            "Đồn Biên phòng; Đoàn Thanh niên xã | tổ chức giao lưu văn nghệ, thể thao với nhân dân bên kia {bg}",
            "Đồn Biên phòng; Cán bộ, chiến sĩ Bộ đội Biên phòng | "
            "cùng lực lượng chức năng nước bạn {nuoc} tuần tra song phương",
            "Đồn Biên phòng; Ủy ban nhân dân xã | vận động đồng bào {dt} tham gia tổ tự quản đường biên, cột mốc",
            "Chính quyền địa phương; Đồn Biên phòng | thăm hỏi, tặng quà các gia đình khó khăn ở bản kết nghĩa",
            "Đồn Biên phòng; Cán bộ, chiến sĩ Bộ đội Biên phòng | "
            "tuyên truyền các hiệp định, quy chế quản lý biên giới cho nhân dân",
            "Đoàn Thanh niên xã; Cán bộ, chiến sĩ Bộ đội Biên phòng | "
            "giúp người dân hai bên biên giới trong mùa thu hoạch",
            "Quân y Đồn Biên phòng; Trạm y tế xã | phối hợp khám bệnh, cấp thuốc cho bà con ở bản kết nghĩa",
        ],
        "results": [
            "quan hệ giữa các bản hai bên {bg} ngày càng gắn bó",
            "đường biên, cột mốc luôn được giữ gìn nguyên vẹn",
            "tình hình an ninh, trật tự khu vực biên giới ổn định",
            "đồng bào {dt} coi việc giữ gìn cột mốc là trách nhiệm của mỗi gia đình",
            "giao thương qua các cửa khẩu thuận lợi hơn, đời sống người dân được cải thiện",
        ],
        "facts": [
            "Nhân dân hai bên biên giới có mối quan hệ thân tộc và giao lưu lâu đời.",
            "Mô hình kết nghĩa cụm dân cư hai bên biên giới góp phần xây dựng đường biên hòa bình, hữu nghị.",
            "Bảo vệ chủ quyền lãnh thổ, an ninh biên giới là trách nhiệm của toàn dân.",
            "Các tổ tự quản đường biên, cột mốc hoạt động đều đặn với sự tham gia của nhiều hộ gia đình.",
            "Qua lại biên giới phải đi đúng cửa khẩu, lối mở và mang theo giấy tờ hợp lệ.",
        ],
        "tips": [
            "Không tự ý di chuyển, làm hư hỏng cột mốc",
            "Qua lại biên giới đúng cửa khẩu, lối mở",
            "Báo ngay cho đồn biên phòng khi thấy dấu hiệu bất thường",
            "Tôn trọng phong tục của bà con bên kia biên giới",
        ],
    },
    "culture-heritage": {
        "titles": [
            "giữ gìn bản sắc văn hóa của đồng bào {dt}",
            "nghề dệt thổ cẩm truyền thống",
            "lễ hội truyền thống của đồng bào {dt}",
            "truyền dạy dân ca, dân vũ cho thế hệ trẻ",
            "bảo tồn nhà ở truyền thống trong bản",
            "trang phục truyền thống trong đời sống hôm nay",
            "câu lạc bộ văn hóa dân gian ở bản vùng cao",
            "phát huy giá trị di sản gắn với du lịch cộng đồng",
        ],
        "acts": [
            "Câu lạc bộ văn hóa dân gian; Các nghệ nhân trong bản | mở lớp truyền dạy dân ca {dt} cho thanh thiếu niên",
            "Sở Văn hóa, Thể thao và Du lịch; Ủy ban nhân dân xã | "
            "phục dựng lễ hội truyền thống với sự tham gia của đông đảo bà con",
            "Cán bộ văn hóa xã; Các nhà nghiên cứu văn hóa dân gian | "
            "sưu tầm, lưu giữ các bài hát ru, truyện cổ của đồng bào {dt}",
            "Hội Liên hiệp Phụ nữ xã; Hợp tác xã thổ cẩm | hỗ trợ các nghệ nhân truyền nghề dệt thổ cẩm, đan lát",
            "Ủy ban nhân dân xã; Ban quản lý thôn, bản | xây dựng câu lạc bộ văn hóa dân gian ở các thôn, bản",
            "Nhà trường; Trường Phổ thông dân tộc nội trú | "
            "khuyến khích học sinh mặc trang phục truyền thống vào ngày đầu tuần",
            "Nhà trường; Trường Phổ thông dân tộc bán trú | đưa nhạc cụ dân tộc vào hoạt động ngoại khóa",
            "Chính quyền địa phương; Sở Văn hóa, Thể thao và Du lịch | "
            "kết hợp bảo tồn văn hóa với phát triển du lịch cộng đồng",
        ],
        "results": [
            "nhiều làn điệu dân ca của đồng bào {dt} đã được lớp trẻ tiếp nối",
            "nghề truyền thống vừa được giữ gìn vừa mang lại thu nhập cho phụ nữ trong bản",
            "lễ hội trở thành dịp để cộng đồng gắn kết và giới thiệu văn hóa với du khách",
            "bản sắc văn hóa của đồng bào {dt} được gìn giữ trong nhịp sống mới",
            "các nghệ nhân được tôn vinh và có thêm động lực truyền dạy",
        ],
        "facts": [
            "Mỗi dân tộc có những giá trị văn hóa riêng, góp phần làm nên nền văn hóa Việt Nam thống nhất "
            "trong đa dạng.",
            "Văn hóa là sức mạnh nội sinh giúp cộng đồng vượt qua khó khăn.",
            "Các nghệ nhân là những người lưu giữ kho tàng tri thức dân gian quý báu.",
            "Giữ gìn bản sắc không có nghĩa là giữ lại những hủ tục lạc hậu.",
            "Du lịch cộng đồng giúp người dân sống được bằng chính văn hóa của mình.",
        ],
        "tips": [
            "Khuyến khích con cháu học tiếng nói, dân ca của dân tộc mình",
            "Giữ gìn trang phục, nhạc cụ truyền thống",
            "Bỏ hủ tục, giữ lại nét đẹp văn hóa",
            "Tham gia câu lạc bộ văn hóa dân gian của bản",
        ],
    },
    "reading-culture": {
        "titles": [
            "tủ sách biên giới cho học sinh vùng cao",
            "lan tỏa văn hóa đọc ở bản làng",
            "thư viện lưu động đến với xã biên giới",
            "sách song ngữ cho thiếu nhi dân tộc thiểu số",
            "ngày hội đọc sách ở trường bán trú",
            "góc đọc sách tại nhà văn hóa thôn",
            "xóa mù chữ cho người lớn tuổi",
        ],
        "acts": [
            "Đồn Biên phòng; Thư viện tỉnh; Nhóm thanh niên tình nguyện | trao tặng tủ sách cho điểm trường của bản",
            "Thư viện tỉnh | đưa xe thư viện lưu động đến phục vụ học sinh và người dân",
            "Nhà trường; Thư viện tỉnh | tổ chức cuộc thi kể chuyện theo sách cho thiếu nhi",
            "Hội Liên hiệp Phụ nữ xã; Đồn Biên phòng; Nhà trường | mở lớp xóa mù chữ buổi tối cho phụ nữ {dt}",
            "Sở Giáo dục và Đào tạo; Các giáo viên người dân tộc thiểu số | "
            "biên soạn sách song ngữ cho học sinh mầm non người {dt}",
            "Bưu điện văn hóa xã; Ủy ban nhân dân xã; Đoàn Thanh niên xã | xây dựng góc đọc sách tại nhà văn hóa thôn",
            "Đoàn Thanh niên xã; Nhà trường | phát động phong trào mỗi tuần đọc một cuốn sách",
        ],
        "results": [
            "nhiều em học sinh đã hình thành thói quen đọc sách mỗi ngày",
            "người lớn tuổi trong bản đã biết đọc, biết viết và tự tin hơn khi làm thủ tục",
            "góc đọc sách trở thành nơi sinh hoạt quen thuộc của thanh thiếu niên",
            "phụ huynh đồng bào {dt} quan tâm hơn đến việc học của con em",
        ],
        "facts": [
            "Sách mở ra cho các em nhỏ vùng biên cánh cửa đến với tri thức.",
            "Biết chữ giúp người dân tiếp cận thông tin, chính sách và pháp luật dễ dàng hơn.",
            "Mỗi cuốn sách được trao tặng là món quà tinh thần ý nghĩa cho học sinh vùng cao.",
            "Văn hóa đọc cần được vun đắp từ gia đình, nhà trường và cộng đồng.",
        ],
        "tips": [
            "Dành ít phút mỗi ngày đọc sách cùng con",
            "Mượn sách tại góc đọc của thôn, bản",
            "Giữ gìn sách cẩn thận để nhiều người cùng đọc",
            "Tham gia lớp xóa mù chữ nếu chưa biết đọc, biết viết",
        ],
    },
    "digital-transformation": {
        "titles": [
            "chuyển đổi số ở các xã biên giới",
            "tổ công nghệ số cộng đồng hỗ trợ người dân",
            "dịch vụ công trực tuyến đến với bản vùng cao",
            "thanh toán không dùng tiền mặt ở chợ phiên",
            "đưa nông sản của đồng bào {dt} lên sàn thương mại điện tử",
            "kích hoạt tài khoản định danh điện tử",
            "phủ sóng di động đến thôn, bản vùng biên",
            "kỹ năng số cho thanh niên dân tộc thiểu số",
        ],
        "acts": [
            "Tổ công nghệ số cộng đồng; Đoàn Thanh niên xã | "
            "đến từng nhà hướng dẫn bà con cài đặt và sử dụng ứng dụng định danh điện tử",
            "Bộ phận một cửa của xã; Tổ công nghệ số cộng đồng | hướng dẫn người dân nộp hồ sơ trên Cổng dịch vụ công",
            "Sở Công Thương; Hội Liên hiệp Phụ nữ xã | tập huấn cho các hộ kinh doanh cách bán hàng qua mạng",
            "Các ngân hàng; Tổ công nghệ số cộng đồng | hỗ trợ đồng bào {dt} mở tài khoản thanh toán điện tử",
            "Doanh nghiệp viễn thông; Ủy ban nhân dân xã | "
            "lắp đặt điểm truy cập Internet miễn phí tại nhà văn hóa thôn",
            "Đoàn Thanh niên xã; Ban Chỉ đạo chuyển đổi số của xã | tổ chức lớp kỹ năng số cơ bản cho thanh niên",
            "Hợp tác xã nông nghiệp; Ủy ban nhân dân xã | "
            "đưa các sản phẩm đặc sản địa phương lên sàn thương mại điện tử",
        ],
        "results": [
            "nhiều thủ tục hành chính đã được người dân tự thực hiện trực tuyến",
            "nông sản của đồng bào {dt} tìm được thêm đầu ra ổn định",
            "người dân không còn phải đi xa để làm giấy tờ",
            "khoảng cách số giữa vùng cao và vùng thấp từng bước được thu hẹp",
            "thanh niên trong bản trở thành lực lượng nòng cốt giúp người cao tuổi dùng điện thoại thông minh",
        ],
        "facts": [
            "Chuyển đổi số lấy người dân làm trung tâm, không để ai bị bỏ lại phía sau.",
            "Điện thoại thông minh đang trở thành công cụ sản xuất, kinh doanh của nhiều hộ gia đình vùng cao.",
            "Tổ công nghệ số cộng đồng là cánh tay nối dài của chính quyền đến từng hộ dân.",
            "Hạ tầng viễn thông được đầu tư giúp sóng di động phủ đến nhiều thôn, bản xa xôi.",
        ],
        "tips": [
            "Dùng số điện thoại chính chủ khi đăng ký tài khoản",
            "Nhờ tổ công nghệ số cộng đồng hướng dẫn khi gặp khó khăn",
            "Giữ bí mật mật khẩu và mã OTP",
            "Kiểm tra kỹ thông tin trước khi nộp hồ sơ trực tuyến",
        ],
    },
    "cyber-safety": {
        "titles": [
            "an toàn trên không gian mạng cho đồng bào vùng biên",
            "cảnh giác với lừa đảo qua điện thoại và mạng xã hội",
            "bảo vệ thông tin cá nhân khi dùng điện thoại thông minh",
            "không cung cấp mã OTP cho người lạ",
            "trẻ em sử dụng Internet an toàn",
            "nhận diện các chiêu trò lừa đảo trực tuyến",
            "sử dụng mạng xã hội văn minh, đúng pháp luật",
        ],
        "acts": [
            "Công an xã; Đồn Biên phòng | tuyên truyền các thủ đoạn lừa đảo qua điện thoại tại buổi họp bản",
            "Tổ công nghệ số cộng đồng; Đoàn Thanh niên xã | hướng dẫn bà con cách đặt mật khẩu an toàn cho tài khoản",
            "Công an xã; Đài truyền thanh xã | cảnh báo người dân về các cuộc gọi giả danh cơ quan chức năng",
            "Công an xã; Đoàn Thanh niên xã | phối hợp với nhà trường dạy học sinh sử dụng Internet an toàn",
            "Công an xã; Ban quản lý thôn, bản | "
            "lập nhóm trên mạng xã hội của bản để kịp thời cảnh báo các chiêu trò lừa đảo mới",
            "Công an xã | hỗ trợ người dân trình báo khi bị lừa đảo trực tuyến",
        ],
        "results": [
            "số vụ lừa đảo qua mạng nhằm vào người dân trong xã giảm rõ rệt",
            "bà con đã biết từ chối cung cấp thông tin cá nhân cho người lạ",
            "phụ huynh quan tâm hơn đến việc con em sử dụng điện thoại",
            "đồng bào {dt} chủ động báo cho công an xã khi nhận được cuộc gọi đáng ngờ",
        ],
        "facts": [
            "Cơ quan nhà nước không yêu cầu người dân chuyển tiền qua điện thoại.",
            "Đường link lạ gửi qua tin nhắn có thể chứa mã độc đánh cắp tài khoản.",
            "Thông tin cá nhân như số căn cước, mật khẩu, mã OTP cần được giữ bí mật.",
            "Những lời mời việc nhẹ lương cao trên mạng thường là cái bẫy của kẻ xấu.",
            "Sử dụng mạng xã hội cần tuân thủ pháp luật và tôn trọng người khác.",
        ],
        "tips": [
            "Không bấm vào đường link lạ",
            "Không chuyển tiền theo yêu cầu của người lạ",
            "Không cung cấp mã OTP, mật khẩu cho bất kỳ ai",
            "Báo ngay cho công an xã khi nghi ngờ bị lừa đảo",
            "Chỉ cài ứng dụng từ kho ứng dụng chính thức",
        ],
    },
    "socio-economic-development": {
        "titles": [
            "phát triển kinh tế - xã hội vùng đồng bào dân tộc thiểu số",
            "mô hình sinh kế bền vững ở xã biên giới",
            "trồng dược liệu dưới tán rừng",
            "hợp tác xã giúp đồng bào {dt} làm giàu",
            "đường giao thông nông thôn đến bản vùng cao",
            "phát triển du lịch cộng đồng ở vùng biên",
            "chăn nuôi đại gia súc nâng cao thu nhập",
            "xây dựng nông thôn mới ở xã biên giới",
        ],
        "acts": [
            "Cán bộ khuyến nông; Ủy ban nhân dân xã | hỗ trợ bà con chuyển đổi cơ cấu cây trồng phù hợp với thổ nhưỡng",
            "Hội Nông dân xã; Hợp tác xã nông nghiệp | thành lập tổ hợp tác sản xuất theo chuỗi giá trị",
            "Cán bộ khuyến nông; Hợp tác xã nông nghiệp | hướng dẫn kỹ thuật trồng và chăm sóc cây dược liệu",
            "Chính quyền địa phương; Nhân dân và chính quyền xã | đầu tư làm đường bê tông đến trung tâm các thôn, bản",
            "Cán bộ khuyến nông; Hội Nông dân xã | tổ chức tập huấn kỹ thuật chăn nuôi cho hộ đồng bào {dt}",
            "Ủy ban nhân dân xã; Hợp tác xã nông nghiệp | kết nối doanh nghiệp bao tiêu sản phẩm cho người dân",
            "Sở Văn hóa, Thể thao và Du lịch; Hội Liên hiệp Phụ nữ xã | "
            "hỗ trợ các hộ đồng bào {dt} làm dịch vụ lưu trú đón khách du lịch",
            "Ngân hàng Chính sách xã hội | cho vay vốn ưu đãi để phát triển sản xuất",
        ],
        "results": [
            "thu nhập của người dân được nâng lên rõ rệt",
            "nhiều hộ đồng bào {dt} đã thoát nghèo bền vững",
            "bộ mặt nông thôn vùng biên ngày càng khởi sắc",
            "sản phẩm địa phương có thương hiệu và đầu ra ổn định",
            "người dân yên tâm gắn bó với bản làng, cùng giữ vững biên cương",
        ],
        "facts": [
            "Phát triển kinh tế - xã hội vùng biên gắn liền với bảo đảm quốc phòng, an ninh.",
            "Đường giao thông thuận lợi giúp nông sản của bà con đến được với thị trường.",
            "Mô hình sinh kế hiệu quả là mô hình phù hợp với tập quán và điều kiện của từng địa phương.",
            "Giảm nghèo bền vững cần sự nỗ lực của chính người dân cùng sự hỗ trợ của Nhà nước.",
        ],
        "tips": [
            "Học hỏi kinh nghiệm từ các hộ làm ăn giỏi trong bản",
            "Tham gia hợp tác xã để bán sản phẩm với giá tốt",
            "Vay vốn đúng mục đích, có kế hoạch sản xuất rõ ràng",
            "Bảo vệ rừng gắn với phát triển kinh tế dưới tán rừng",
        ],
    },
    "legal-education": {
        "titles": [
            "phổ biến pháp luật cho đồng bào vùng biên",
            "tìm hiểu Luật Biên giới quốc gia",
            "phòng, chống mua bán người ở khu vực biên giới",
            "phòng, chống ma túy trong thôn, bản",
            "hòa giải ở cơ sở giữ bình yên bản làng",
            "phòng, chống tảo hôn và hôn nhân cận huyết thống",
            "quy định về cư trú, qua lại biên giới",
            "bảo vệ và phát triển rừng theo pháp luật",
        ],
        "acts": [
            "Công chức tư pháp xã; Đồn Biên phòng | "
            "tổ chức buổi phổ biến pháp luật bằng tiếng {dt} tại nhà văn hóa thôn",
            "Công an xã; Đồn Biên phòng; Hội Liên hiệp Phụ nữ xã | "
            "phát tờ rơi tuyên truyền về phòng, chống mua bán người",
            "Sở Tư pháp; Ủy ban nhân dân xã | xây dựng mô hình câu lạc bộ pháp luật ở các bản biên giới",
            "Hội Liên hiệp Phụ nữ xã; Ủy ban nhân dân xã | phối hợp với người có uy tín vận động bà con không tảo hôn",
            "Tổ hòa giải ở cơ sở; Các tổ hòa giải thôn, bản | hòa giải thành nhiều vụ mâu thuẫn nhỏ trong cộng đồng",
            "Đồn Biên phòng; Công an xã | tuyên truyền quy định về qua lại biên giới và cư trú",
            "Công an xã; Đồn Biên phòng | lồng ghép nội dung phòng, chống ma túy vào các buổi họp bản",
        ],
        "results": [
            "ý thức chấp hành pháp luật của đồng bào {dt} được nâng lên",
            "tình trạng tảo hôn ở các bản giảm dần",
            "người dân qua lại biên giới đúng quy định",
            "các mâu thuẫn trong cộng đồng được giải quyết ngay tại cơ sở",
            "bà con biết cách tự bảo vệ mình trước các thủ đoạn mua bán người",
        ],
        "facts": [
            "Hiểu biết pháp luật giúp người dân bảo vệ quyền lợi chính đáng của mình.",
            "Mua bán người là tội phạm nghiêm trọng, thường lợi dụng sự nhẹ dạ và hoàn cảnh khó khăn của nạn nhân.",
            "Tảo hôn ảnh hưởng đến sức khỏe, học tập và tương lai của trẻ em.",
            "Hòa giải ở cơ sở giúp giữ gìn tình làng nghĩa xóm.",
            "Tuyên truyền pháp luật bằng tiếng dân tộc và hình ảnh minh họa giúp bà con dễ hiểu, dễ nhớ.",
        ],
        "tips": [
            "Không nghe lời dụ dỗ đi làm ăn xa khi chưa rõ nơi làm việc",
            "Không tổ chức tảo hôn cho con em",
            "Tuyệt đối không sử dụng, tàng trữ, vận chuyển ma túy",
            "Đi lại qua biên giới đúng cửa khẩu và có giấy tờ hợp lệ",
        ],
    },
}

KIND_LABEL = {
    "article": "Bài viết",
    "news": "Tin",
    "video": "Video",
    "audio": "Chương trình âm thanh",
    "image": "Bộ ảnh",
    "infographic": "Đồ họa thông tin",
    "leaflet": "Tờ rơi",
    "radio_script": "Kịch bản phát thanh",
    "book": "Ấn phẩm",
    "document": "Tài liệu",
}
TITLE_PREFIX = {
    "video": "Video: ",
    "audio": "Bản tin âm thanh: ",
    "image": "Ảnh: ",
    "infographic": "Đồ họa: ",
    "leaflet": "Tờ rơi: ",
    "radio_script": "Kịch bản phát thanh: ",
    "book": "Sổ tay: ",
    "document": "Tài liệu: ",
}
SUMMARY_VERBS = ["giới thiệu", "phản ánh", "tuyên truyền về", "đề cập đến", "cung cấp thông tin về"]
RADIO_ROLES = ["**Người dẫn:** ", "**Phóng viên:** ", "**Khách mời:** "]

EN_TITLES = {
    "ethnic-policy": ["Support policies for ethnic minority households in {tinh}"],
    "rights-achievements": ["Boarding schools for ethnic minority children in {tinh}"],
    "rebuttal-false-information": ["How to spot fake news online"],
    "border-friendship": ["Friendship along the Vietnam-{nuoc} border"],
    "culture-heritage": ["Keeping the traditional crafts of the {dt} people alive"],
    "reading-culture": ["Community libraries in border communes"],
    "digital-transformation": ["Digital public services reach highland villages"],
    "cyber-safety": ["Staying safe from online scams"],
    "socio-economic-development": ["Sustainable livelihoods for {dt} farmers in {tinh}"],
    "legal-education": ["Free legal aid for ethnic minority communities"],
}
KIND_EN = {
    "article": "article",
    "news": "news item",
    "video": "video",
    "audio": "audio programme",
    "image": "photo set",
    "infographic": "infographic",
    "leaflet": "leaflet",
    "radio_script": "radio script",
    "book": "booklet",
    "document": "document",
}
EN_SENTENCES = [
    "Many villages along the border with {nuoc} are home to {dt} families who have lived there for generations.",
    "Local authorities hold village meetings to explain support policies in plain language.",
    "Community digital teams visit households to help people use online public services.",
    "Boarding schools provide meals and accommodation so that children from remote villages can study.",
    "Traditional festivals bring the community together and welcome visitors from other provinces.",
    "Border guards and villagers patrol the border together and take care of the boundary markers.",
    "Fake news often uses shocking headlines, has no clear source and asks readers to share it at once.",
    "Before sharing a post, readers should check who published it, when, and whether official media report it.",
    "Women of the {dt} community teach younger people to weave and embroider traditional patterns.",
    "Cooperatives help farmers sell medicinal herbs, tea and livestock at stable prices.",
    "New concrete roads have shortened the journey from the village to the commune centre.",
    "Mobile libraries bring children's books to schools in {tinh}.",
    "Government agencies never ask people to transfer money over the phone.",
    "Legal aid officers explain the rules on residence and border crossings at village meetings.",
    "Respected elders help resolve small disputes within the community.",
    "Health workers visit remote hamlets to provide check-ups and free medicine.",
    "Young people are trained to help older residents use smartphones safely.",
    "People on both sides of the border have long-standing family and trade ties.",
    "Community tourism allows families to earn a living from their own culture.",
    "Villagers are encouraged to report unusual activity to the nearest border post.",
]


def _nfc(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [_nfc(v) for v in value]
    if isinstance(value, dict):
        return {k: _nfc(v) for k, v in value.items()}
    return value


# --------------------------------------------------------------------------------------------
# Reference data
# --------------------------------------------------------------------------------------------


class Reference:
    """Names and routes from seed/*.csv; checks that the hand-written tables above agree with them."""

    def __init__(self, directory: Path = REFERENCE_DIR) -> None:
        with (directory / "ethnic_groups.csv").open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        self.group_name = {row["code"]: _nfc(row["name_vi"]) for row in rows}
        self.group_ascii = {row["code"]: row["name_ascii"] for row in rows}
        with (directory / "border_provinces.csv").open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        self.province_routes: dict[str, list[str]] = {}
        self.province_ascii: dict[str, str] = {}
        for row in rows:
            if row["period"] != "post_2025_07":
                continue
            name = _nfc(row["name_vi"])
            self.province_routes.setdefault(name, []).append(row["route_code"])
            self.province_ascii[name] = row["name_ascii"]
        unknown = [c for c in GROUP_RANKING if c not in self.group_name]
        unknown += [p for p in PROVINCES if p not in self.province_routes]
        unknown += [c for _, groups in PROVINCES.values() for c in groups if c not in GROUP_WEIGHT]
        if unknown or len(set(GROUP_RANKING)) != 53 or sorted(PROVINCES) != sorted(self.province_routes):
            raise SystemExit(f"bench/corpus.py tables disagree with {directory}: {unknown}")
        self.route_provinces = {
            route: [p for p in PROVINCES if route in self.province_routes[p]] for route in ROUTE_WEIGHTS
        }


class _Weighted:
    """random.choices with precomputed cumulative weights (a hot path at 100,000 items)."""

    __slots__ = ("values", "cum", "total")

    def __init__(self, weights: dict[str, float] | Sequence[tuple[str, float]]) -> None:
        pairs = list(weights.items()) if isinstance(weights, dict) else list(weights)
        self.values = [v for v, _ in pairs]
        self.cum = list(accumulate(w for _, w in pairs))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random) -> str:
        return self.values[bisect_right(self.cum, rng.random() * self.total)]

    def sample(self, rng: random.Random, k: int) -> list[str]:
        """k distinct values, weighted, in the order drawn."""
        k = min(k, len(self.values))
        out: list[str] = []
        while len(out) < k:
            value = self.pick(rng)
            if value not in out:
                out.append(value)
        return out


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _strip_diacritics(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# --------------------------------------------------------------------------------------------
# Materials
# --------------------------------------------------------------------------------------------


class CorpusGenerator:
    def __init__(self, seed: int, reference: Reference | None = None) -> None:
        self.rng = random.Random(seed)
        self.ref = reference or Reference()
        self.banks = _nfc(TOPIC_BANKS)
        # "A; B | predicate" -> ([A, B], predicate)
        self.acts = {
            topic: [
                ([x.strip() for x in head.split(";")], tail.strip())
                for head, tail in (act.split("|") for act in bank["acts"])
            ]
            for topic, bank in self.banks.items()
        }
        self.kinds = _Weighted(KIND_WEIGHTS)
        self.languages = _Weighted(LANGUAGE_WEIGHTS)
        self.topics = _Weighted(TOPIC_WEIGHTS)
        self.statuses = _Weighted(STATUS_WEIGHTS)
        self.classifications = _Weighted(CLASSIFICATION_WEIGHTS)
        self.routes = _Weighted(ROUTE_WEIGHTS)
        self.route_province_pick = {
            route: _Weighted([(p, PROVINCES[p][0]) for p in provinces])
            for route, provinces in self.ref.route_provinces.items()
        }
        self._group_pools: dict[tuple[str, ...], _Weighted] = {}

    # -- tags -------------------------------------------------------------------------------

    def _group_pool(self, provinces: tuple[str, ...]) -> _Weighted:
        pool = self._group_pools.get(provinces)
        if pool is None:
            codes: list[str] = []
            for province in provinces:
                codes.extend(c for c in PROVINCES[province][1] if c not in codes)
            pool = self._group_pools[provinces] = _Weighted([(c, GROUP_WEIGHT[c]) for c in codes])
        return pool

    def _tags(self, language: str) -> tuple[list[str], list[str], list[str]]:
        rng = self.rng
        if language == "km":
            routes = ["VN-KH"]
        elif language in ("lo", "hnj"):
            routes = ["VN-LA"] if language == "lo" or rng.random() < 0.4 else ["VN-CN"]
        elif language == "zh":
            routes = ["VN-CN"]
        else:
            routes = [self.routes.pick(rng)]
            if rng.random() < 0.15:
                routes = self.routes.sample(rng, 2)
        candidates = [p for r in routes for p in self.ref.route_provinces[r]]
        roll = rng.random()
        n_provinces = 0 if roll < 0.3 else 1 if roll < 0.8 else 2
        provinces: list[str] = []
        for _ in range(n_provinces):
            province = self.route_province_pick[rng.choice(routes)].pick(rng)
            if province not in provinces:
                provinces.append(province)
        forced = {"km": "05", "hnj": "08"}.get(language)
        if forced:  # a Khmer (Mông) language material goes to provinces where Khmer (Mông) live
            provinces = [p for p in provinces if forced in PROVINCES[p][1]]
        pool_key = tuple(provinces) if provinces else tuple(dict.fromkeys(candidates))
        roll = rng.random()
        n_groups = 1 if roll < 0.55 else 2 if roll < 0.85 else 3
        groups = self._group_pool(pool_key).sample(rng, n_groups)
        if forced and forced not in groups:
            groups = [forced, *groups[:2]]
        return groups, routes, provinces

    # -- text -------------------------------------------------------------------------------

    def _slots(self, groups: list[str], routes: list[str], provinces: list[str], english: bool) -> dict[str, str]:
        rng = self.rng
        route = rng.choice(routes)
        group = rng.choice(groups)
        if english:
            return {
                "dt": self.ref.group_ascii[group],
                "tinh": self.ref.province_ascii[rng.choice(provinces)] if provinces else "the border provinces",
                "nuoc": ROUTE_NEIGHBOUR_EN[route],
            }
        return {
            "dt": self.ref.group_name[group],
            "tinh": rng.choice(provinces) if provinces else "các tỉnh biên giới",
            "bg": ROUTE_PHRASE[route],
            "nuoc": ROUTE_NEIGHBOUR[route],
        }

    def _sentence(self, topic: str, slots: dict[str, str], used: set[str], has_province: bool) -> str:
        """One sentence; `used` holds the cores already in this body, so a body rarely repeats itself."""
        rng = self.rng
        bank = self.banks[topic]
        for _ in range(6):
            roll = rng.random()
            if roll < 0.35:
                subjects, core = rng.choice(self.acts[topic])
            elif roll < 0.57:
                core = rng.choice(bank["results"])
            elif roll < 0.77:
                core = rng.choice(bank["facts"])
            elif roll < 0.9:
                core = rng.choice(GENERIC)
            else:
                core = rng.choice(QUOTES)
            if core not in used:
                break
        used.add(core)
        if roll < 0.35:
            roll = rng.random()
            names_place = " tại " in core or " ở " in core or "đến từng" in core
            if roll < 0.35:
                tail = ""
            elif roll < 0.85 and has_province and not names_place:
                tail = " " + rng.choice(TAILS_PROVINCE)
            elif roll < 0.65 and not names_place:
                tail = " " + rng.choice(TAILS_PLACE)
            else:
                tail = " " + rng.choice(TAILS_TIME)
            text = f"{rng.choice(subjects)} {core}{tail}."
        elif roll < 0.57:
            text = f"{rng.choice(CONNECTORS)}, {core}."
        elif roll < 0.9:
            text = core
        else:
            text = f"“{core}”, {rng.choice(SPEAKERS)} chia sẻ."
        return text.format(**slots)

    def _title(self, kind: str, template: str, slots: dict[str, str], provinces: list[str]) -> str:
        rng = self.rng
        core = template.format(**slots)
        roll = rng.random()
        if roll < 0.3 and "{dt}" not in template and "đồng bào" not in template:
            core = f"{core} cho đồng bào {slots['dt']}"
        elif roll < 0.5 and provinces:
            return f"{slots['tinh']}: {_cap(core)}"
        elif roll < 0.65 and "biên giới" not in template and "vùng" not in template:
            core = f"{core} ở vùng {slots['bg']}"
        prefix = TITLE_PREFIX.get(kind, "") if rng.random() < 0.7 else ""
        return prefix + _cap(core)

    def _summary(
        self, kind: str, topic: str, template: str, slots: dict[str, str], provinces: list[str], language: str
    ) -> str:
        rng = self.rng
        subject = template.format(**slots)
        if provinces:
            where = f" tại {slots['tinh']}"
        elif "biên giới" in template or "{bg}" in template:
            where = "" if "{dt}" in template else f" cho đồng bào {slots['dt']}"
        else:
            where = f" ở vùng {slots['bg']}"
        first = f"{KIND_LABEL[kind]} {rng.choice(SUMMARY_VERBS)} {subject}{where}."
        if language in LANGUAGE_AUDIENCE_VI:
            return f"{first} Bản tiếng {LANGUAGE_NAME_VI[language]} dành cho {LANGUAGE_AUDIENCE_VI[language]}."
        if rng.random() < 0.5:
            first += f" {_cap(rng.choice(self.banks[topic]['results']).format(**slots))}."
        return first

    def _body(self, kind: str, topics: list[str], template: str, slots: dict[str, str], provinces: list[str]) -> str:
        """Markdown of 80-400 words (whitespace-separated tokens, Markdown markers included)."""
        rng = self.rng
        target = int(rng.triangular(85, 390, 170))
        limit = 400 - (5 if kind in ("video", "audio") else 0)  # the duration line comes last
        used: set[str] = set()
        blocks: list[str] = []
        if kind in ("article", "book", "document") and rng.random() < 0.5:
            blocks.append("## " + _cap(template.format(**slots)))
        opener = rng.choice(OPENERS_WITH_PROVINCE if provinces and rng.random() < 0.5 else OPENERS)
        paragraph = [self._role(kind, 0) + opener.format(**slots)]
        role = 1
        if kind in ("leaflet", "infographic"):
            tips = [t for topic in topics for t in self.banks[topic]["tips"]]
            chosen = rng.sample(tips, min(len(tips), rng.randint(3, 5)))
            blocks.append(" ".join(paragraph))
            blocks.append("Bà con cần ghi nhớ:\n\n" + "\n".join(f"- {t}." for t in chosen))
            paragraph = []
        words = sum(len(block.split()) for block in blocks) + sum(len(s.split()) for s in paragraph)
        per_paragraph = rng.randint(2, 5)
        while words < target:
            topic = topics[0] if rng.random() < 0.6 else rng.choice(topics)
            sentence = self._sentence(topic, slots, used, bool(provinces))
            if not paragraph:
                sentence = self._role(kind, role) + sentence
                role += 1
            n = len(sentence.split())
            if words + n > limit - 12 and words >= 85:  # leave room for the closing sentence
                break
            paragraph.append(sentence)
            words += n
            if len(paragraph) >= per_paragraph:
                blocks.append(" ".join(paragraph))
                paragraph = []
                per_paragraph = rng.randint(2, 5)
                if kind in ("article", "document") and rng.random() < 0.15 and words < target - 40:
                    heading = "### " + _cap(rng.choice(self.banks[rng.choice(topics)]["titles"]).format(**slots))
                    blocks.append(heading)
                    words += len(heading.split())
        closer = (self._role(kind, role) if not paragraph else "") + rng.choice(CLOSERS)
        if words + len(closer.split()) <= limit:
            paragraph.append(closer)
        if paragraph:
            blocks.append(" ".join(paragraph))
        if kind in ("video", "audio"):
            blocks.append(f"*Thời lượng: khoảng {rng.randint(2, 15)} phút.*")
        return "\n\n".join(blocks)

    @staticmethod
    def _role(kind: str, index: int) -> str:
        return RADIO_ROLES[index % len(RADIO_ROLES)] if kind == "radio_script" else ""

    def _english(self, kind: str, topic: str, slots: dict[str, str]) -> tuple[str, str, str]:
        rng = self.rng
        title = rng.choice(EN_TITLES[topic]).format(**slots)
        order = rng.sample(EN_SENTENCES, len(EN_SENTENCES))  # no sentence repeats before all were used
        summary = f"An English-language {KIND_EN[kind]}: {title[:1].lower()}{title[1:]}. {order[-1].format(**slots)}"
        target = int(rng.triangular(85, 390, 170))
        sentences: list[str] = []
        words = 0
        while words < target:
            sentence = order[len(sentences) % len(order)].format(**slots)
            if words + len(sentence.split()) > 395 and words >= 85:
                break
            sentences.append(sentence)
            words += len(sentence.split())
        paragraphs = [" ".join(sentences[i : i + 4]) for i in range(0, len(sentences), 4)]
        return title, summary, "\n\n".join(paragraphs)

    def material(self) -> dict[str, Any]:
        rng = self.rng
        kind = self.kinds.pick(rng)
        language = self.languages.pick(rng)
        groups, routes, provinces = self._tags(language)
        roll = rng.random()
        topics = self.topics.sample(rng, 1 if roll < 0.5 else 2 if roll < 0.85 else 3)
        if language == "en":
            title, summary, body = self._english(kind, topics[0], self._slots(groups, routes, provinces, english=True))
        else:
            slots = self._slots(groups, routes, provinces, english=False)
            template = rng.choice(self.banks[topics[0]]["titles"])
            title = self._title(kind, template, slots, provinces)
            summary = self._summary(kind, topics[0], template, slots, provinces, language)
            body = self._body(kind, topics, template, slots, provinces)
        return {
            "title": title,
            "summary": summary,
            "body": body,
            "kind": kind,
            "language": language,
            "ethnic_groups": groups,
            "border_routes": routes,
            "provinces": provinces,
            "topics": topics,
            "classification": self.classifications.pick(rng),
            "source": SOURCE,
            "status": self.statuses.pick(rng),
        }


def materials(count: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """`count` materials, the same ones for the same seed."""
    generator = CorpusGenerator(seed)
    for _ in range(count):
        yield generator.material()


def write_ndjson(path: Path | None, count: int, seed: int) -> int:
    """Writes the corpus (to stdout when path is None); returns the number of bytes written."""
    written = 0
    out = sys.stdout.buffer if path is None else path.open("wb")
    try:
        chunk: list[str] = []
        for item in materials(count, seed):
            chunk.append(json.dumps(item, ensure_ascii=False, separators=(",", ":")))
            if len(chunk) == 2000:
                data = ("\n".join(chunk) + "\n").encode("utf-8")
                out.write(data)
                written += len(data)
                chunk = []
        if chunk:
            data = ("\n".join(chunk) + "\n").encode("utf-8")
            out.write(data)
            written += len(data)
    finally:
        if path is not None:
            out.close()
    return written


# --------------------------------------------------------------------------------------------
# Search requests
# --------------------------------------------------------------------------------------------

QUERY_PHRASES = [
    "biên giới",
    "Việt - Lào",
    "cột mốc",
    "tin giả",
    "chuyển đổi số",
    "thổ cẩm",
    "dân ca",
    "lễ hội",
    "tủ sách",
    "xóa mù chữ",
    "lừa đảo",
    "mã OTP",
    "định danh",
    "dịch vụ công",
    "sàn thương mại",
    "dược liệu",
    "hợp tác xã",
    "du lịch",
    "tảo hôn",
    "mua bán người",
    "ma túy",
    "hòa giải",
    "uy tín",
    "nước sinh hoạt",
    "bán trú",
    "bảo hiểm",
    "song ngữ",
    "kết nghĩa",
    "tuần tra",
    "cửa khẩu",
    "pháp luật",
    "văn hóa đọc",
    "sinh kế",
    "thoát nghèo",
    "mạng xã hội",
    "Internet",
    "an toàn",
    "trang phục",
    "nghệ nhân",
    "chính sách",
    "sai sự thật",
    "đường biên",
]
QUERY_GROUPS = [
    "Mông",
    "Tày",
    "Thái",
    "Dao",
    "Khmer",
    "Nùng",
    "Gia Rai",
    "Ê Đê",
    "Ba Na",
    "Hà Nhì",
    "Khơ Mú",
    "Lô Lô",
    "Bru-Vân Kiều",
    "Xơ Đăng",
    "Giáy",
    "Chứt",
]
QUERY_PROVINCES = ["Lào Cai", "An Giang", "Điện Biên", "Quảng Trị", "Cao Bằng", "Sơn La", "Gia Lai", "Nghệ An"]
QUERY_FILTERS = {"ethnic_group": 30, "topic": 20, "border_route": 20, "kind": 15, "language": 8, "status": 7}


def _words(phrase: str) -> int:
    return len(phrase.replace(" - ", " ").replace("-", " ").split())


def queries(n: int = 200, seed: int = 11) -> list[dict[str, Any]]:
    """A fixed mix of `n` parameter dicts for GET /api/v1/search (values are strings or ints).

    60% have `q` (1-3 whitespace-separated words (Vietnamese syllables) from the phrase banks; half of
    those are folded: without diacritics, lower case; a few others are ASCII anyway, e.g. "Khmer"),
    70% have one or two filters (ethnic_group, border_route, kind, language, topic, status),
    25% sort by newest; every request has limit=20. Same n and seed, same list.
    """
    rng = random.Random(seed)
    phrases = _nfc(QUERY_PHRASES)
    groups = _nfc(QUERY_GROUPS)
    provinces = _nfc(QUERY_PROVINCES)
    group_codes = _Weighted(list(GROUP_WEIGHT.items())[:25])
    filter_names = _Weighted(QUERY_FILTERS)
    pick = {
        "ethnic_group": lambda: group_codes.pick(rng),
        "border_route": lambda: rng.choice(sorted(ROUTE_WEIGHTS)),
        "kind": lambda: _Weighted(KIND_WEIGHTS).pick(rng),
        "language": lambda: _Weighted({"vi": 6, "en": 2, "km": 1, "hnj": 1}).pick(rng),
        "topic": lambda: _Weighted(TOPIC_WEIGHTS).pick(rng),
        "status": lambda: _Weighted({"published": 6, "approved": 2, "in_review": 1, "draft": 1}).pick(rng),
    }

    def flags(share: float) -> list[bool]:
        count = round(n * share)
        out = [True] * count + [False] * (n - count)
        rng.shuffle(out)
        return out

    with_q, with_filters, newest = flags(0.6), flags(0.7), flags(0.25)
    q_count = sum(with_q)
    folded = [True] * (q_count // 2) + [False] * (q_count - q_count // 2)
    rng.shuffle(folded)
    result: list[dict[str, Any]] = []
    for i in range(n):
        params: dict[str, Any] = {}
        if with_q[i]:
            roll = rng.random()
            if roll < 0.4:
                q = rng.choice(phrases)
            elif roll < 0.65:
                q = f"{rng.choice(['dân tộc', 'đồng bào'])} {rng.choice([g for g in groups if _words(g) == 1])}"
            elif roll < 0.8:
                q = rng.choice(groups)
            elif roll < 0.9:
                q = rng.choice(provinces)
            else:
                group = rng.choice(groups)
                room = 3 - _words(group)
                q = f"{rng.choice([p for p in phrases if _words(p) <= room])} {group}" if room else group
            params["q"] = _strip_diacritics(q).lower() if folded.pop() else q
        if with_filters[i]:
            for name in filter_names.sample(rng, 1 if rng.random() < 0.65 else 2):
                params[name] = pick[name]()
        if newest[i]:
            params["sort"] = "newest"
        params["limit"] = 20
        result.append(params)
    return result


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate a deterministic NDJSON corpus of ttdn-hub materials.")
    parser.add_argument("--count", type=int, default=100_000, help="number of materials (default 100000)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--out", default="bench/out/corpus.ndjson", help="output file, or - for stdout")
    parser.add_argument("--queries", action="store_true", help="print queries() as JSON lines instead")
    args = parser.parse_args(argv)
    if args.queries:
        for params in queries():
            print(json.dumps(params, ensure_ascii=False))
        return 0
    if args.count < 0:
        parser.error("--count must be >= 0")
    path = None if args.out == "-" else Path(args.out)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    size = write_ndjson(path, args.count, args.seed)
    elapsed = time.perf_counter() - started
    print(f"{args.count} materials, {size / 1_000_000:.1f} MB, {elapsed:.1f} s -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except BrokenPipeError:  # e.g. `--out - | head`
        sys.stderr.close()
        raise SystemExit(1) from None
