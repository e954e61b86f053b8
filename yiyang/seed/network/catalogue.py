"""The fixed lists the synthetic network is drawn from: the skills by profession, the
positions, the staffing per kind of institution (head counts), the licence number classes
and prefixes, and the agreements' titles and texts."""

from __future__ import annotations

from yiyang.network.models import AgreementKind, InstitutionType, Profession

# Skills every staff member draws from, by profession: (code, name).
SKILLS: dict[str, str] = {
    "chronic-disease": "慢病管理",
    "geriatrics": "老年医学",
    "home-visit": "上门巡诊",
    "emergency": "急诊急救",
    "geriatric-nursing": "老年护理",
    "wound-care": "伤口护理",
    "medication": "用药管理",
    "fall-prevention": "跌倒预防",
    "rehab-training": "康复训练",
    "acupuncture": "针灸推拿",
    "tcm-health": "中医养生保健",
    "health-records": "健康档案管理",
    "immunisation": "预防接种",
    "nutrition": "营养指导",
    "dementia-care": "失智照护",
    "palliative-care": "安宁疗护",
    "daily-care": "生活照料",
    "psych-support": "心理慰藉",
    "cleaning": "保洁服务",
    "dispatching": "服务调度",
    "ability-assessment": "老年人能力评估",
}
PROFESSION_SKILLS: dict[str, tuple[str, ...]] = {
    Profession.DOCTOR: ("chronic-disease", "geriatrics", "home-visit", "emergency"),
    Profession.TCM_DOCTOR: ("acupuncture", "tcm-health", "chronic-disease"),
    Profession.NURSE: ("geriatric-nursing", "wound-care", "medication", "fall-prevention"),
    Profession.REHAB_THERAPIST: ("rehab-training", "fall-prevention"),
    Profession.PUBLIC_HEALTH: ("health-records", "immunisation", "nutrition"),
    Profession.CAREGIVER: ("daily-care", "dementia-care", "palliative-care", "psych-support"),
    Profession.HOUSEKEEPING: ("cleaning",),
    Profession.DISPATCHER: ("dispatching",),
    Profession.ASSESSOR: ("ability-assessment",),
}
POSITIONS: dict[str, tuple[str, ...]] = {
    Profession.DOCTOR: ("住院医师", "主治医师", "副主任医师", "主任医师"),
    Profession.TCM_DOCTOR: ("中医师", "主治中医师", "副主任中医师"),
    Profession.NURSE: ("护士", "护师", "主管护师", "副主任护师"),
    Profession.REHAB_THERAPIST: ("康复治疗士", "康复治疗师"),
    Profession.PUBLIC_HEALTH: ("公卫医师", "公卫医生"),
    Profession.CAREGIVER: ("养老护理员", "高级养老护理员"),
    Profession.HOUSEKEEPING: ("保洁员",),
    Profession.DISPATCHER: ("服务调度员",),
    Profession.ASSESSOR: ("能力评估员",),
}
# Staffing per kind of institution: profession -> (min, max) head count.
STAFFING: dict[str, dict[str, tuple[int, int]]] = {
    "lead": {
        Profession.DOCTOR: (8, 10),
        Profession.TCM_DOCTOR: (2, 3),
        Profession.NURSE: (8, 12),
        Profession.REHAB_THERAPIST: (2, 2),
        Profession.PUBLIC_HEALTH: (1, 2),
        Profession.DISPATCHER: (1, 1),
        Profession.ASSESSOR: (1, 1),
    },
    "center_medical": {
        Profession.DOCTOR: (3, 5),
        Profession.TCM_DOCTOR: (1, 1),
        Profession.NURSE: (3, 5),
        Profession.REHAB_THERAPIST: (1, 1),
        Profession.PUBLIC_HEALTH: (1, 2),
    },
    "center_care": {
        Profession.CAREGIVER: (4, 6),
        Profession.HOUSEKEEPING: (1, 2),
        Profession.DISPATCHER: (1, 1),
        Profession.ASSESSOR: (1, 1),
    },
    "station_medical": {Profession.DOCTOR: (1, 1), Profession.NURSE: (0, 1)},
    "station_care": {Profession.CAREGIVER: (1, 2), Profession.HOUSEKEEPING: (0, 1)},
}
# Class letter in a medical practice licence number: hospital, health center, clinic (J).
LICENCE_CLASS: dict[str, str] = {
    InstitutionType.LEAD_HOSPITAL: "A",
    InstitutionType.CHC: "B",
    InstitutionType.THC: "B",
}
# Licence number prefix per profession; None: the profession has no licence.
LICENCE_PREFIX: dict[str, str | None] = {
    Profession.DOCTOR: "110",  # 医师执业证书: category 1 (clinical)
    Profession.TCM_DOCTOR: "210",  # category 2 (TCM)
    Profession.PUBLIC_HEALTH: "410",  # category 4 (public health)
    Profession.NURSE: "HS",  # 护士执业证书
    Profession.REHAB_THERAPIST: "KF",  # 康复治疗专业技术资格
    Profession.CAREGIVER: "YL",  # 养老护理员职业技能等级证书
    Profession.ASSESSOR: "PG",  # 老年人能力评估师
    Profession.HOUSEKEEPING: None,
    Profession.DISPATCHER: None,
}

AGREEMENT_TITLE: dict[str, str] = {
    AgreementKind.CHAIN_MEMBERSHIP: "医共体成员协议",
    AgreementKind.COOPERATION: "医养合作协议",
    AgreementKind.REFERRAL: "双向转诊协议",
}
AGREEMENT_TEXT: dict[str, tuple[str, str]] = {
    AgreementKind.CHAIN_MEMBERSHIP: (
        "牵头医院负责业务指导、人员培训、远程会诊和质量控制；成员单位执行统一的服务规范并按月报送服务数据。",
        "每季度至少1次下沉带教；远程会诊48小时内响应；服务数据每月5日前报送。",
    ),
    AgreementKind.COOPERATION: (
        "医疗机构负责为养老机构入住老人提供定期巡诊、健康管理、急诊急救绿色通道和双向转诊；"
        "养老机构负责日常生活照料并及时报告老人健康异常。",
        "巡诊每周不少于1次；急诊响应不超过30分钟；入住老人健康档案建档率100%。",
    ),
    AgreementKind.REFERRAL: (
        "成员单位将超出诊疗能力的患者上转牵头医院，牵头医院将康复期、稳定期患者下转成员单位继续治疗。",
        "上转预约当日确认；下转患者48小时内随访；转诊单信息完整率100%。",
    ),
}
