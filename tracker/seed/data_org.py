"""Demo organisation of a fictional city power-supply company: units, demo users, staff.

Pure data (no imports). Unit codes are hierarchical: ``JZ`` (city company) >
``JZ-QH`` (county company) > ``JZ-QH-CG`` (supply station) > ``JZ-QH-CG-H1`` (business
hall) / ``JZ-QH-CG-T1`` (team). A county may also run its own central business hall
(``JZ-QH-H1``). Every name and person here is invented.
"""

# Levels, top down. Halls and teams are leaves; a county's own hall hangs off the county.
LEVELS = ("company", "county", "station", "hall", "team")

ORGANISATION = [
    {
        "code": "JZ",
        "name": "国网江州市供电公司",
        "level": "company",
        "children": [
            {
                "code": "JZ-QH",
                "name": "国网江州市清河县供电公司",
                "level": "county",
                "children": [
                    {
                        "code": "JZ-QH-H1",
                        "name": "清河县客户服务中心营业厅",
                        "level": "hall",
                        "children": [],
                    },
                    {
                        "code": "JZ-QH-CG",
                        "name": "城关供电所",
                        "level": "station",
                        "children": [
                            {
                                "code": "JZ-QH-CG-H1",
                                "name": "城关供电所营业厅",
                                "level": "hall",
                                "children": [],
                            },
                            {
                                "code": "JZ-QH-CG-T1",
                                "name": "城关供电所台区经理班",
                                "level": "team",
                                "children": [],
                            },
                            {
                                "code": "JZ-QH-CG-T2",
                                "name": "城关供电所抢修班",
                                "level": "team",
                                "children": [],
                            },
                        ],
                    },
                    {
                        "code": "JZ-QH-LX",
                        "name": "柳溪供电所",
                        "level": "station",
                        "children": [
                            {
                                "code": "JZ-QH-LX-H1",
                                "name": "柳溪供电所营业厅",
                                "level": "hall",
                                "children": [],
                            },
                            {
                                "code": "JZ-QH-LX-T1",
                                "name": "柳溪供电所台区经理班",
                                "level": "team",
                                "children": [],
                            },
                            {
                                "code": "JZ-QH-LX-T2",
                                "name": "柳溪供电所抢修班",
                                "level": "team",
                                "children": [],
                            },
                        ],
                    },
                    {
                        "code": "JZ-QH-MQ",
                        "name": "马桥供电所",
                        "level": "station",
                        "children": [
                            {
                                "code": "JZ-QH-MQ-H1",
                                "name": "马桥供电所营业厅",
                                "level": "hall",
                                "children": [],
                            },
                            {
                                "code": "JZ-QH-MQ-T1",
                                "name": "马桥供电所台区经理班",
                                "level": "team",
                                "children": [],
                            },
                        ],
                    },
                    {
                        "code": "JZ-QH-HB",
                        "name": "黄埠供电所",
                        "level": "station",
                        "children": [
                            {
                                "code": "JZ-QH-HB-H1",
                                "name": "黄埠供电所营业厅",
                                "level": "hall",
                                "children": [],
                            },
                            {
                                "code": "JZ-QH-HB-T1",
                                "name": "黄埠供电所台区经理班",
                                "level": "team",
                                "children": [],
                            },
                            {
                                "code": "JZ-QH-HB-T2",
                                "name": "黄埠供电所营销班",
                                "level": "team",
                                "children": [],
                            },
                        ],
                    },
                    {
                        "code": "JZ-QH-XT",
                        "name": "新塘供电所",
                        "level": "station",
                        "children": [
                            {
                                "code": "JZ-QH-XT-H1",
                                "name": "新塘供电所营业厅",
                                "level": "hall",
                                "children": [],
                            },
                            {
                                "code": "JZ-QH-XT-T1",
                                "name": "新塘供电所台区经理班",
                                "level": "team",
                                "children": [],
                            },
                        ],
                    },
                ],
            },
            {
                "code": "JZ-TL",
                "name": "国网江州市桐岭县供电公司",
                "level": "county",
                "children": [
                    {
                        "code": "JZ-TL-H1",
                        "name": "桐岭县客户服务中心营业厅",
                        "level": "hall",
                        "children": [],
                    },
                    {
                        "code": "JZ-TL-FM",
                        "name": "凤鸣供电所",
                        "level": "station",
                        "children": [
                            {
                                "code": "JZ-TL-FM-H1",
                                "name": "凤鸣供电所营业厅",
                                "level": "hall",
                                "children": [],
                            },
                            {
                                "code": "JZ-TL-FM-T1",
                                "name": "凤鸣供电所台区经理班",
                                "level": "team",
                                "children": [],
                            },
                            {
                                "code": "JZ-TL-FM-T2",
                                "name": "凤鸣供电所抢修班",
                                "level": "team",
                                "children": [],
                            },
                        ],
                    },
                    {
                        "code": "JZ-TL-SB",
                        "name": "石坝供电所",
                        "level": "station",
                        "children": [
                            {
                                "code": "JZ-TL-SB-H1",
                                "name": "石坝供电所营业厅",
                                "level": "hall",
                                "children": [],
                            },
                            {
                                "code": "JZ-TL-SB-T1",
                                "name": "石坝供电所台区经理班",
                                "level": "team",
                                "children": [],
                            },
                            {
                                "code": "JZ-TL-SB-T2",
                                "name": "石坝供电所抢修班",
                                "level": "team",
                                "children": [],
                            },
                        ],
                    },
                    {
                        "code": "JZ-TL-LT",
                        "name": "龙潭供电所",
                        "level": "station",
                        "children": [
                            {
                                "code": "JZ-TL-LT-H1",
                                "name": "龙潭供电所营业厅",
                                "level": "hall",
                                "children": [],
                            },
                            {
                                "code": "JZ-TL-LT-T1",
                                "name": "龙潭供电所台区经理班",
                                "level": "team",
                                "children": [],
                            },
                        ],
                    },
                    {
                        "code": "JZ-TL-GH",
                        "name": "桂花供电所",
                        "level": "station",
                        "children": [
                            {
                                "code": "JZ-TL-GH-H1",
                                "name": "桂花供电所营业厅",
                                "level": "hall",
                                "children": [],
                            },
                            {
                                "code": "JZ-TL-GH-T1",
                                "name": "桂花供电所台区经理班",
                                "level": "team",
                                "children": [],
                            },
                            {
                                "code": "JZ-TL-GH-T2",
                                "name": "桂花供电所营销班",
                                "level": "team",
                                "children": [],
                            },
                        ],
                    },
                ],
            },
            {
                "code": "JZ-AL",
                "name": "国网江州市安澜县供电公司",
                "level": "county",
                "children": [
                    {
                        "code": "JZ-AL-H1",
                        "name": "安澜县客户服务中心营业厅",
                        "level": "hall",
                        "children": [],
                    },
                    {
                        "code": "JZ-AL-LJ",
                        "name": "澜江供电所",
                        "level": "station",
                        "children": [
                            {
                                "code": "JZ-AL-LJ-H1",
                                "name": "澜江供电所营业厅",
                                "level": "hall",
                                "children": [],
                            },
                            {
                                "code": "JZ-AL-LJ-T1",
                                "name": "澜江供电所台区经理班",
                                "level": "team",
                                "children": [],
                            },
                            {
                                "code": "JZ-AL-LJ-T2",
                                "name": "澜江供电所抢修班",
                                "level": "team",
                                "children": [],
                            },
                        ],
                    },
                    {
                        "code": "JZ-AL-BL",
                        "name": "白鹭供电所",
                        "level": "station",
                        "children": [
                            {
                                "code": "JZ-AL-BL-H1",
                                "name": "白鹭供电所营业厅",
                                "level": "hall",
                                "children": [],
                            },
                            {
                                "code": "JZ-AL-BL-T1",
                                "name": "白鹭供电所台区经理班",
                                "level": "team",
                                "children": [],
                            },
                            {
                                "code": "JZ-AL-BL-T2",
                                "name": "白鹭供电所抢修班",
                                "level": "team",
                                "children": [],
                            },
                        ],
                    },
                    {
                        "code": "JZ-AL-GQ",
                        "name": "高桥供电所",
                        "level": "station",
                        "children": [
                            {
                                "code": "JZ-AL-GQ-H1",
                                "name": "高桥供电所营业厅",
                                "level": "hall",
                                "children": [],
                            },
                            {
                                "code": "JZ-AL-GQ-T1",
                                "name": "高桥供电所台区经理班",
                                "level": "team",
                                "children": [],
                            },
                        ],
                    },
                    {
                        "code": "JZ-AL-SH",
                        "name": "沙河供电所",
                        "level": "station",
                        "children": [
                            {
                                "code": "JZ-AL-SH-H1",
                                "name": "沙河供电所营业厅",
                                "level": "hall",
                                "children": [],
                            },
                            {
                                "code": "JZ-AL-SH-T1",
                                "name": "沙河供电所台区经理班",
                                "level": "team",
                                "children": [],
                            },
                            {
                                "code": "JZ-AL-SH-T2",
                                "name": "沙河供电所抢修班",
                                "level": "team",
                                "children": [],
                            },
                        ],
                    },
                    {
                        "code": "JZ-AL-DH",
                        "name": "东湖供电所",
                        "level": "station",
                        "children": [
                            {
                                "code": "JZ-AL-DH-H1",
                                "name": "东湖供电所营业厅",
                                "level": "hall",
                                "children": [],
                            },
                            {
                                "code": "JZ-AL-DH-T1",
                                "name": "东湖供电所台区经理班",
                                "level": "team",
                                "children": [],
                            },
                            {
                                "code": "JZ-AL-DH-T2",
                                "name": "东湖供电所营销班",
                                "level": "team",
                                "children": [],
                            },
                        ],
                    },
                ],
            },
        ],
    },
]

# unit_code None = the whole organisation. Unit heads' names match the first PERSONNEL entry
# of their unit; the comment above each user is their position.
DEMO_USERS = [
    # 系统管理员（市公司营销部）
    {
        "username": "admin",
        "display_name": "周立新",
        "role": "admin",
        "unit_code": None,
        "email": "admin@jzpower.example.cn",
    },
    # 市公司服务质量监督室主任
    {
        "username": "sup_wang",
        "display_name": "王建华",
        "role": "supervisor",
        "unit_code": None,
        "email": "sup_wang@jzpower.example.cn",
    },
    # 市公司服务质量监督室专责
    {
        "username": "sup_liu",
        "display_name": "刘敏",
        "role": "supervisor",
        "unit_code": None,
        "email": "sup_liu@jzpower.example.cn",
    },
    # 清河县公司行风监督专责
    {
        "username": "sup_chen",
        "display_name": "陈志刚",
        "role": "supervisor",
        "unit_code": "JZ-QH",
        "email": "sup_chen@jzpower.example.cn",
    },
    # 安澜县公司行风监督专责
    {
        "username": "sup_zhao",
        "display_name": "赵丽萍",
        "role": "supervisor",
        "unit_code": "JZ-AL",
        "email": "sup_zhao@jzpower.example.cn",
    },
    # 清河县公司总经理
    {
        "username": "head_qh",
        "display_name": "罗海涛",
        "role": "unit_head",
        "unit_code": "JZ-QH",
        "email": "head_qh@jzpower.example.cn",
    },
    # 城关供电所所长
    {
        "username": "head_qh_cg",
        "display_name": "姜建军",
        "role": "unit_head",
        "unit_code": "JZ-QH-CG",
        "email": "head_qh_cg@jzpower.example.cn",
    },
    # 桐岭县、安澜县公司总经理: every unit has a head above it who answers its cases
    {
        "username": "head_tl",
        "display_name": "王国强",
        "role": "unit_head",
        "unit_code": "JZ-TL",
        "email": "head_tl@jzpower.example.cn",
    },
    {
        "username": "head_al",
        "display_name": "梁建国",
        "role": "unit_head",
        "unit_code": "JZ-AL",
        "email": "head_al@jzpower.example.cn",
    },
    # 石坝供电所所长
    {
        "username": "head_tl_sb",
        "display_name": "董宏伟",
        "role": "unit_head",
        "unit_code": "JZ-TL-SB",
        "email": "head_tl_sb@jzpower.example.cn",
    },
    # 城关供电所营业厅班长
    {
        "username": "head_qh_cg_h1",
        "display_name": "任晓燕",
        "role": "unit_head",
        "unit_code": "JZ-QH-CG-H1",
        "email": "head_qh_cg_h1@jzpower.example.cn",
    },
    # 澜江供电所抢修班班长
    {
        "username": "head_al_lj_t2",
        "display_name": "唐正阳",
        "role": "unit_head",
        "unit_code": "JZ-AL-LJ-T2",
        "email": "head_al_lj_t2@jzpower.example.cn",
    },
    # 行风监督员（清河县人大代表）
    {
        "username": "ext_xu",
        "display_name": "徐振东",
        "role": "external",
        "unit_code": None,
        "email": "xu.zhendong@example.cn",
    },
    # 《江州日报》记者
    {
        "username": "ext_lin",
        "display_name": "林晓雯",
        "role": "external",
        "unit_code": None,
        "email": "lin.xiaowen@jzdaily.example.cn",
    },
]

# Staff per unit; the first entry of every unit is its head (所长 / 班长 / 总经理).
PERSONNEL = {
    "JZ": [
        {"name": "向云飞", "title": "总经理"},
        {"name": "杨新民", "title": "副总经理（分管营销）"},
    ],
    "JZ-QH": [
        {"name": "罗海涛", "title": "总经理"},
        {"name": "王娟", "title": "副总经理（分管营销）"},
    ],
    "JZ-QH-H1": [
        {"name": "邵小芳", "title": "班长"},
        {"name": "吴美玲", "title": "营业员"},
        {"name": "张诗涵", "title": "营业员"},
        {"name": "梁少华", "title": "营业员"},
        {"name": "龚雪梅", "title": "营业员"},
    ],
    "JZ-QH-CG": [
        {"name": "姜建军", "title": "所长"},
        {"name": "徐宏伟", "title": "副所长"},
    ],
    "JZ-QH-CG-H1": [
        {"name": "任晓燕", "title": "班长"},
        {"name": "罗安琪", "title": "营业员"},
        {"name": "江佳怡", "title": "营业员"},
        {"name": "刘向东", "title": "营业员"},
    ],
    "JZ-QH-CG-T1": [
        {"name": "黄忠良", "title": "班长"},
        {"name": "秦少华", "title": "台区经理"},
        {"name": "崔天明", "title": "台区经理"},
        {"name": "谢德明", "title": "台区经理"},
    ],
    "JZ-QH-CG-T2": [
        {"name": "史天明", "title": "班长"},
        {"name": "朱建军", "title": "抢修人员"},
        {"name": "侯志强", "title": "抢修人员"},
        {"name": "叶红兵", "title": "抢修人员"},
    ],
    "JZ-QH-LX": [
        {"name": "周振华", "title": "所长"},
        {"name": "林世杰", "title": "副所长"},
    ],
    "JZ-QH-LX-H1": [
        {"name": "龚向东", "title": "班长"},
        {"name": "金慧敏", "title": "营业员"},
        {"name": "邱莉", "title": "营业员"},
        {"name": "韦志强", "title": "营业员"},
    ],
    "JZ-QH-LX-T1": [
        {"name": "唐建军", "title": "班长"},
        {"name": "陆思雨", "title": "台区经理"},
        {"name": "彭志勇", "title": "台区经理"},
        {"name": "陶超", "title": "台区经理"},
    ],
    "JZ-QH-LX-T2": [
        {"name": "丁伟", "title": "班长"},
        {"name": "方宇轩", "title": "抢修人员"},
        {"name": "郝军", "title": "抢修人员"},
        {"name": "赵冬生", "title": "抢修人员"},
    ],
    "JZ-QH-MQ": [
        {"name": "陈亚军", "title": "所长"},
        {"name": "郭文军", "title": "副所长"},
    ],
    "JZ-QH-MQ-H1": [
        {"name": "万辉", "title": "班长"},
        {"name": "唐安琪", "title": "营业员"},
        {"name": "周颖", "title": "营业员"},
        {"name": "邹辉", "title": "营业员"},
    ],
    "JZ-QH-MQ-T1": [
        {"name": "莫正阳", "title": "班长"},
        {"name": "李宇轩", "title": "台区经理"},
        {"name": "邱天明", "title": "台区经理"},
        {"name": "邓文军", "title": "台区经理"},
    ],
    "JZ-QH-HB": [
        {"name": "卢伟", "title": "所长"},
        {"name": "胡佳怡", "title": "副所长"},
    ],
    "JZ-QH-HB-H1": [
        {"name": "董伟", "title": "班长"},
        {"name": "沈美玲", "title": "营业员"},
        {"name": "杜秀英", "title": "营业员"},
        {"name": "吴娟", "title": "营业员"},
    ],
    "JZ-QH-HB-T1": [
        {"name": "任振华", "title": "班长"},
        {"name": "郑树林", "title": "台区经理"},
        {"name": "郝建平", "title": "台区经理"},
        {"name": "陈斌", "title": "台区经理"},
    ],
    "JZ-QH-HB-T2": [
        {"name": "高天明", "title": "班长"},
        {"name": "王玉兰", "title": "营销员"},
        {"name": "梁晶晶", "title": "营销员"},
    ],
    "JZ-QH-XT": [
        {"name": "蒋小龙", "title": "所长"},
        {"name": "郑璐", "title": "副所长"},
    ],
    "JZ-QH-XT-H1": [
        {"name": "尹峰", "title": "班长"},
        {"name": "何瑞雪", "title": "营业员"},
        {"name": "江慧敏", "title": "营业员"},
        {"name": "侯琳", "title": "营业员"},
    ],
    "JZ-QH-XT-T1": [
        {"name": "朱冬生", "title": "班长"},
        {"name": "赵世杰", "title": "台区经理"},
        {"name": "黎莉", "title": "台区经理"},
        {"name": "汪亚军", "title": "台区经理"},
    ],
    "JZ-TL": [
        {"name": "王国强", "title": "总经理"},
        {"name": "陶慧敏", "title": "副总经理（分管营销）"},
    ],
    "JZ-TL-H1": [
        {"name": "钟雅琴", "title": "班长"},
        {"name": "陈洁", "title": "营业员"},
        {"name": "傅洁", "title": "营业员"},
        {"name": "吴德明", "title": "营业员"},
        {"name": "宋紫薇", "title": "营业员"},
    ],
    "JZ-TL-FM": [
        {"name": "曾云飞", "title": "所长"},
        {"name": "张云飞", "title": "副所长"},
    ],
    "JZ-TL-FM-H1": [
        {"name": "毛碧霞", "title": "班长"},
        {"name": "史敏", "title": "营业员"},
        {"name": "崔雨欣", "title": "营业员"},
        {"name": "曹琳", "title": "营业员"},
    ],
    "JZ-TL-FM-T1": [
        {"name": "严文斌", "title": "班长"},
        {"name": "蔡敏", "title": "台区经理"},
        {"name": "朱浩然", "title": "台区经理"},
        {"name": "汤家兴", "title": "台区经理"},
    ],
    "JZ-TL-FM-T2": [
        {"name": "高永刚", "title": "班长"},
        {"name": "唐世杰", "title": "抢修人员"},
        {"name": "王浩然", "title": "抢修人员"},
        {"name": "龚勇", "title": "抢修人员"},
    ],
    "JZ-TL-SB": [
        {"name": "董宏伟", "title": "所长"},
        {"name": "李水生", "title": "副所长"},
    ],
    "JZ-TL-SB-H1": [
        {"name": "侯璐", "title": "班长"},
        {"name": "郑梓涵", "title": "营业员"},
        {"name": "高瑞雪", "title": "营业员"},
        {"name": "任国栋", "title": "营业员"},
    ],
    "JZ-TL-SB-T1": [
        {"name": "孙世杰", "title": "班长"},
        {"name": "潘新民", "title": "台区经理"},
        {"name": "赵忠良", "title": "台区经理"},
        {"name": "史峰", "title": "台区经理"},
    ],
    "JZ-TL-SB-T2": [
        {"name": "谢家兴", "title": "班长"},
        {"name": "陆冬生", "title": "抢修人员"},
        {"name": "傅振华", "title": "抢修人员"},
        {"name": "孙超", "title": "抢修人员"},
    ],
    "JZ-TL-LT": [
        {"name": "曹建国", "title": "所长"},
        {"name": "张浩然", "title": "副所长"},
    ],
    "JZ-TL-LT-H1": [
        {"name": "卢雅琴", "title": "班长"},
        {"name": "赵晓丽", "title": "营业员"},
        {"name": "赵璐", "title": "营业员"},
        {"name": "罗世杰", "title": "营业员"},
    ],
    "JZ-TL-LT-T1": [
        {"name": "曹正阳", "title": "班长"},
        {"name": "尹强", "title": "台区经理"},
        {"name": "林明辉", "title": "台区经理"},
        {"name": "黄锦涛", "title": "台区经理"},
    ],
    "JZ-TL-GH": [
        {"name": "贾磊", "title": "所长"},
        {"name": "黄小芳", "title": "副所长"},
    ],
    "JZ-TL-GH-H1": [
        {"name": "叶红梅", "title": "班长"},
        {"name": "王莉", "title": "营业员"},
        {"name": "宋晓红", "title": "营业员"},
        {"name": "胡碧霞", "title": "营业员"},
    ],
    "JZ-TL-GH-T1": [
        {"name": "唐俊杰", "title": "班长"},
        {"name": "陈水生", "title": "台区经理"},
        {"name": "田红兵", "title": "台区经理"},
        {"name": "曾建国", "title": "台区经理"},
    ],
    "JZ-TL-GH-T2": [
        {"name": "曾军", "title": "班长"},
        {"name": "邹璐", "title": "营销员"},
        {"name": "梁丽娟", "title": "营销员"},
    ],
    "JZ-AL": [
        {"name": "梁建国", "title": "总经理"},
        {"name": "郝家兴", "title": "副总经理（分管营销）"},
    ],
    "JZ-AL-H1": [
        {"name": "江梦瑶", "title": "班长"},
        {"name": "石海燕", "title": "营业员"},
        {"name": "王雪梅", "title": "营业员"},
        {"name": "钟立新", "title": "营业员"},
        {"name": "罗梓涵", "title": "营业员"},
    ],
    "JZ-AL-LJ": [
        {"name": "林振华", "title": "所长"},
        {"name": "王世杰", "title": "副所长"},
    ],
    "JZ-AL-LJ-H1": [
        {"name": "韦强", "title": "班长"},
        {"name": "莫思雨", "title": "营业员"},
        {"name": "邱安琪", "title": "营业员"},
        {"name": "沈磊", "title": "营业员"},
    ],
    "JZ-AL-LJ-T1": [
        {"name": "赵建国", "title": "班长"},
        {"name": "侯凤英", "title": "台区经理"},
        {"name": "孟勇", "title": "台区经理"},
        {"name": "傅慧敏", "title": "台区经理"},
    ],
    "JZ-AL-LJ-T2": [
        {"name": "唐正阳", "title": "班长"},
        {"name": "宋学军", "title": "抢修人员"},
        {"name": "赵国华", "title": "抢修人员"},
        {"name": "王海涛", "title": "抢修人员"},
    ],
    "JZ-AL-BL": [
        {"name": "姜小龙", "title": "所长"},
        {"name": "张学军", "title": "副所长"},
    ],
    "JZ-AL-BL-H1": [
        {"name": "邓世杰", "title": "班长"},
        {"name": "汤诗涵", "title": "营业员"},
        {"name": "傅玉梅", "title": "营业员"},
        {"name": "段春生", "title": "营业员"},
    ],
    "JZ-AL-BL-T1": [
        {"name": "熊国栋", "title": "班长"},
        {"name": "崔军", "title": "台区经理"},
        {"name": "李建国", "title": "台区经理"},
        {"name": "石向东", "title": "台区经理"},
    ],
    "JZ-AL-BL-T2": [
        {"name": "王斌", "title": "班长"},
        {"name": "卢春生", "title": "抢修人员"},
        {"name": "陈建国", "title": "抢修人员"},
        {"name": "张振华", "title": "抢修人员"},
    ],
    "JZ-AL-GQ": [
        {"name": "卢辉", "title": "所长"},
        {"name": "徐天明", "title": "副所长"},
    ],
    "JZ-AL-GQ-H1": [
        {"name": "毛立新", "title": "班长"},
        {"name": "莫雪琴", "title": "营业员"},
        {"name": "毛洁", "title": "营业员"},
        {"name": "宋辉", "title": "营业员"},
    ],
    "JZ-AL-GQ-T1": [
        {"name": "覃长青", "title": "班长"},
        {"name": "徐金龙", "title": "台区经理"},
        {"name": "周水生", "title": "台区经理"},
        {"name": "程晓东", "title": "台区经理"},
    ],
    "JZ-AL-SH": [
        {"name": "薛文斌", "title": "所长"},
        {"name": "董瑞雪", "title": "副所长"},
    ],
    "JZ-AL-SH-H1": [
        {"name": "韩强", "title": "班长"},
        {"name": "陶玉兰", "title": "营业员"},
        {"name": "韦桂芳", "title": "营业员"},
        {"name": "赵勇", "title": "营业员"},
    ],
    "JZ-AL-SH-T1": [
        {"name": "李军", "title": "班长"},
        {"name": "孟少华", "title": "台区经理"},
        {"name": "江宏伟", "title": "台区经理"},
        {"name": "张正阳", "title": "台区经理"},
    ],
    "JZ-AL-SH-T2": [
        {"name": "蔡宇轩", "title": "班长"},
        {"name": "李峰", "title": "抢修人员"},
        {"name": "邓宇轩", "title": "抢修人员"},
        {"name": "韩天明", "title": "抢修人员"},
    ],
    "JZ-AL-DH": [
        {"name": "莫文斌", "title": "所长"},
        {"name": "贺涛", "title": "副所长"},
    ],
    "JZ-AL-DH-H1": [
        {"name": "吴启明", "title": "班长"},
        {"name": "梁晓燕", "title": "营业员"},
        {"name": "周娟", "title": "营业员"},
        {"name": "薛庆丰", "title": "营业员"},
    ],
    "JZ-AL-DH-T1": [
        {"name": "张立新", "title": "班长"},
        {"name": "董长青", "title": "台区经理"},
        {"name": "沈少华", "title": "台区经理"},
        {"name": "万海涛", "title": "台区经理"},
    ],
    "JZ-AL-DH-T2": [
        {"name": "陆利民", "title": "班长"},
        {"name": "梁丽华", "title": "营销员"},
        {"name": "徐倩", "title": "营销员"},
    ],
}
