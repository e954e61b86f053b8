"""ICD-10 codes: the format rule and a catalogue of the diagnoses common in elderly care,
with their Chinese names (after GB/T 14396 / the national clinical edition) and English
names (for search and the English interface).

The catalogue is not the whole classification. A diagnosis may carry any code that has the
ICD-10 form (``I10``, ``I25.1``, the national extensions ``I10.x00`` / ``E11.900``); when
the code is in the catalogue — itself, or its category — the Chinese name is filled in
from it, otherwise the user names the diagnosis.

Format (after normalisation: trimmed, the category upper-case, a placeholder ``X`` after
the dot written ``x`` as in the national edition): a letter, two digits, and optionally a
dot followed by one to four digits or ``x`` — at most eight characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CODE_RE = re.compile(r"[A-Z][0-9]{2}(?:\.[0-9x]{1,4})?")


@dataclass(frozen=True)
class Diagnosis:
    code: str
    zh: str
    en: str

    @property
    def category(self) -> str:
        return self.code[:3]


_ENTRIES: tuple[tuple[str, str, str], ...] = (
    # A–B infectious diseases
    ("A15", "呼吸道结核，经细菌学和组织学所证实", "Respiratory tuberculosis, confirmed"),
    ("A16", "呼吸道结核，未经细菌学或组织学所证实", "Respiratory tuberculosis, not confirmed"),
    ("B02", "带状疱疹", "Zoster (herpes zoster)"),
    ("B18", "慢性病毒性肝炎", "Chronic viral hepatitis"),
    ("B18.1", "慢性乙型病毒性肝炎", "Chronic viral hepatitis B"),
    ("B18.2", "慢性丙型病毒性肝炎", "Chronic viral hepatitis C"),
    # C–D neoplasms, blood
    ("C15", "食管恶性肿瘤", "Malignant neoplasm of oesophagus"),
    ("C16", "胃恶性肿瘤", "Malignant neoplasm of stomach"),
    ("C18", "结肠恶性肿瘤", "Malignant neoplasm of colon"),
    ("C20", "直肠恶性肿瘤", "Malignant neoplasm of rectum"),
    ("C22", "肝和肝内胆管恶性肿瘤", "Malignant neoplasm of liver and intrahepatic bile ducts"),
    ("C25", "胰恶性肿瘤", "Malignant neoplasm of pancreas"),
    ("C34", "支气管和肺恶性肿瘤", "Malignant neoplasm of bronchus and lung"),
    ("C43", "皮肤恶性黑色素瘤", "Malignant melanoma of skin"),
    ("C50", "乳房恶性肿瘤", "Malignant neoplasm of breast"),
    ("C53", "子宫颈恶性肿瘤", "Malignant neoplasm of cervix uteri"),
    ("C54", "子宫体恶性肿瘤", "Malignant neoplasm of corpus uteri"),
    ("C56", "卵巢恶性肿瘤", "Malignant neoplasm of ovary"),
    ("C61", "前列腺恶性肿瘤", "Malignant neoplasm of prostate"),
    ("C64", "肾恶性肿瘤，除外肾盂", "Malignant neoplasm of kidney, except renal pelvis"),
    ("C67", "膀胱恶性肿瘤", "Malignant neoplasm of bladder"),
    ("C71", "脑恶性肿瘤", "Malignant neoplasm of brain"),
    ("C73", "甲状腺恶性肿瘤", "Malignant neoplasm of thyroid gland"),
    ("C83", "非滤泡性淋巴瘤", "Non-follicular lymphoma"),
    ("C90", "多发性骨髓瘤和恶性浆细胞肿瘤", "Multiple myeloma and malignant plasma cell neoplasms"),
    ("C91", "淋巴样白血病", "Lymphoid leukaemia"),
    ("C92", "髓样白血病", "Myeloid leukaemia"),
    ("D50", "缺铁性贫血", "Iron deficiency anaemia"),
    ("D51", "维生素B12缺乏性贫血", "Vitamin B12 deficiency anaemia"),
    ("D64", "其他贫血", "Other anaemias"),
    ("D64.9", "贫血", "Anaemia, unspecified"),
    # E endocrine, nutritional, metabolic
    ("E03", "其他甲状腺功能减退症", "Other hypothyroidism"),
    ("E03.9", "甲状腺功能减退症", "Hypothyroidism, unspecified"),
    ("E05", "甲状腺毒症[甲状腺功能亢进症]", "Thyrotoxicosis (hyperthyroidism)"),
    ("E10", "1型糖尿病", "Type 1 diabetes mellitus"),
    ("E11", "2型糖尿病", "Type 2 diabetes mellitus"),
    ("E11.2", "2型糖尿病伴有肾的并发症", "Type 2 diabetes mellitus with renal complications"),
    (
        "E11.3",
        "2型糖尿病伴有眼的并发症",
        "Type 2 diabetes mellitus with ophthalmic complications",
    ),
    (
        "E11.4",
        "2型糖尿病伴有神经的并发症",
        "Type 2 diabetes mellitus with neurological complications",
    ),
    (
        "E11.5",
        "2型糖尿病伴有周围循环并发症",
        "Type 2 diabetes mellitus with peripheral circulatory complications",
    ),
    ("E11.9", "2型糖尿病不伴有并发症", "Type 2 diabetes mellitus without complications"),
    ("E14", "未特指的糖尿病", "Unspecified diabetes mellitus"),
    ("E46", "营养不良", "Protein-energy malnutrition, unspecified"),
    ("E55", "维生素D缺乏", "Vitamin D deficiency"),
    ("E66", "肥胖症", "Obesity"),
    (
        "E78",
        "脂蛋白代谢紊乱和其他脂血症",
        "Disorders of lipoprotein metabolism and other lipidaemias",
    ),
    ("E78.0", "单纯高胆固醇血症", "Pure hypercholesterolaemia"),
    ("E78.5", "高脂血症", "Hyperlipidaemia, unspecified"),
    ("E79.0", "高尿酸血症", "Hyperuricaemia without signs of gout"),
    ("E86", "容量不足[脱水]", "Volume depletion (dehydration)"),
    ("E87.1", "低渗透压和低钠血症", "Hypo-osmolality and hyponatraemia"),
    # F mental and behavioural disorders
    ("F00", "阿尔茨海默病性痴呆", "Dementia in Alzheimer disease"),
    ("F01", "血管性痴呆", "Vascular dementia"),
    ("F02", "分类于他处的其他疾病引起的痴呆", "Dementia in other diseases classified elsewhere"),
    ("F03", "痴呆", "Unspecified dementia"),
    ("F05", "谵妄", "Delirium, not induced by alcohol and other psychoactive substances"),
    ("F06.7", "轻度认知障碍", "Mild cognitive disorder"),
    ("F10", "酒精引起的精神和行为障碍", "Mental and behavioural disorders due to use of alcohol"),
    ("F20", "精神分裂症", "Schizophrenia"),
    ("F31", "双相情感障碍", "Bipolar affective disorder"),
    ("F32", "抑郁发作", "Depressive episode"),
    ("F33", "复发性抑郁障碍", "Recurrent depressive disorder"),
    ("F41", "其他焦虑障碍", "Other anxiety disorders"),
    ("F51.0", "非器质性失眠症", "Nonorganic insomnia"),
    # G nervous system
    ("G20", "帕金森病", "Parkinson disease"),
    ("G30", "阿尔茨海默病", "Alzheimer disease"),
    ("G40", "癫痫", "Epilepsy"),
    ("G43", "偏头痛", "Migraine"),
    ("G45", "短暂性大脑缺血性发作", "Transient cerebral ischaemic attack"),
    ("G47", "睡眠障碍", "Sleep disorders"),
    ("G47.3", "睡眠呼吸暂停", "Sleep apnoea"),
    ("G62", "其他多神经病", "Other polyneuropathies"),
    ("G63.2", "糖尿病性多神经病", "Diabetic polyneuropathy"),
    ("G81", "偏瘫", "Hemiplegia"),
    ("G82", "截瘫和四肢瘫", "Paraplegia and tetraplegia"),
    # H eye and ear
    ("H25", "老年性白内障", "Senile cataract"),
    ("H26", "其他白内障", "Other cataract"),
    ("H35.3", "黄斑和后极变性", "Degeneration of macula and posterior pole"),
    ("H36.0", "糖尿病性视网膜病", "Diabetic retinopathy"),
    ("H40", "青光眼", "Glaucoma"),
    ("H54", "视力损害，包括盲", "Visual impairment including blindness"),
    ("H81.1", "良性阵发性眩晕", "Benign paroxysmal vertigo"),
    ("H91.1", "老年性聋", "Presbycusis"),
    ("H91.9", "听觉丧失", "Hearing loss, unspecified"),
    # I circulatory system
    ("I10", "原发性高血压", "Essential (primary) hypertension"),
    ("I11", "高血压性心脏病", "Hypertensive heart disease"),
    ("I12", "高血压性肾脏病", "Hypertensive renal disease"),
    ("I13", "高血压性心脏和肾脏病", "Hypertensive heart and renal disease"),
    ("I15", "继发性高血压", "Secondary hypertension"),
    ("I20", "心绞痛", "Angina pectoris"),
    ("I21", "急性心肌梗死", "Acute myocardial infarction"),
    ("I25", "慢性缺血性心脏病", "Chronic ischaemic heart disease"),
    ("I25.1", "冠状动脉粥样硬化性心脏病", "Atherosclerotic (coronary) heart disease"),
    ("I25.2", "陈旧性心肌梗死", "Old myocardial infarction"),
    ("I26", "肺栓塞", "Pulmonary embolism"),
    ("I27.9", "肺源性心脏病", "Pulmonary heart disease, unspecified"),
    ("I34", "非风湿性二尖瓣疾患", "Nonrheumatic mitral valve disorders"),
    ("I35", "非风湿性主动脉瓣疾患", "Nonrheumatic aortic valve disorders"),
    ("I42", "心肌病", "Cardiomyopathy"),
    ("I44", "房室传导阻滞和左束支传导阻滞", "Atrioventricular and left bundle-branch block"),
    ("I48", "心房纤颤和扑动", "Atrial fibrillation and flutter"),
    ("I49", "其他心律失常", "Other cardiac arrhythmias"),
    ("I50", "心力衰竭", "Heart failure"),
    ("I60", "蛛网膜下出血", "Subarachnoid haemorrhage"),
    ("I61", "脑内出血", "Intracerebral haemorrhage"),
    ("I63", "脑梗死", "Cerebral infarction"),
    ("I64", "脑卒中，未特指为出血或梗死", "Stroke, not specified as haemorrhage or infarction"),
    ("I67.2", "大脑动脉粥样硬化", "Cerebral atherosclerosis"),
    ("I69", "脑血管病后遗症", "Sequelae of cerebrovascular disease"),
    ("I69.3", "脑梗死后遗症", "Sequelae of cerebral infarction"),
    ("I70", "动脉粥样硬化", "Atherosclerosis"),
    ("I73.9", "周围血管病", "Peripheral vascular disease, unspecified"),
    ("I80", "静脉炎和血栓性静脉炎", "Phlebitis and thrombophlebitis"),
    ("I83", "下肢静脉曲张", "Varicose veins of lower extremities"),
    ("I95", "低血压", "Hypotension"),
    ("I95.1", "直立性低血压", "Orthostatic hypotension"),
    # J respiratory system
    ("J18", "肺炎，病原体未特指", "Pneumonia, organism unspecified"),
    ("J20", "急性支气管炎", "Acute bronchitis"),
    ("J42", "慢性支气管炎", "Unspecified chronic bronchitis"),
    ("J43", "肺气肿", "Emphysema"),
    ("J44", "慢性阻塞性肺疾病", "Other chronic obstructive pulmonary disease"),
    ("J45", "哮喘", "Asthma"),
    ("J47", "支气管扩张", "Bronchiectasis"),
    ("J69.0", "吸入性肺炎", "Pneumonitis due to food and vomit (aspiration pneumonia)"),
    ("J84", "其他间质性肺病", "Other interstitial pulmonary diseases"),
    ("J96", "呼吸衰竭", "Respiratory failure"),
    # K digestive system
    ("K21", "胃-食管反流性疾病", "Gastro-oesophageal reflux disease"),
    ("K25", "胃溃疡", "Gastric ulcer"),
    ("K26", "十二指肠溃疡", "Duodenal ulcer"),
    ("K29", "胃炎和十二指肠炎", "Gastritis and duodenitis"),
    ("K29.5", "慢性胃炎", "Chronic gastritis, unspecified"),
    ("K56", "肠梗阻", "Paralytic ileus and intestinal obstruction without hernia"),
    ("K59.0", "便秘", "Constipation"),
    ("K70", "酒精性肝病", "Alcoholic liver disease"),
    ("K74", "肝纤维化和肝硬化", "Fibrosis and cirrhosis of liver"),
    ("K76.0", "脂肪肝", "Fatty liver, not elsewhere classified"),
    ("K80", "胆石症", "Cholelithiasis"),
    ("K81", "胆囊炎", "Cholecystitis"),
    ("K92.2", "胃肠出血", "Gastrointestinal haemorrhage, unspecified"),
    # L skin
    ("L89", "压疮", "Pressure ulcer"),
    ("L30.9", "皮炎", "Dermatitis, unspecified"),
    # M musculoskeletal system
    ("M05", "血清反应阳性的类风湿性关节炎", "Seropositive rheumatoid arthritis"),
    ("M06", "其他类风湿性关节炎", "Other rheumatoid arthritis"),
    ("M10", "痛风", "Gout"),
    ("M15", "多关节病", "Polyarthrosis"),
    ("M16", "髋关节病", "Coxarthrosis (arthrosis of hip)"),
    ("M17", "膝关节病", "Gonarthrosis (arthrosis of knee)"),
    ("M19", "其他关节病", "Other arthrosis"),
    ("M47", "脊椎关节强硬", "Spondylosis"),
    ("M48.0", "椎管狭窄", "Spinal stenosis"),
    ("M50", "颈椎间盘疾患", "Cervical disc disorders"),
    ("M51", "其他椎间盘疾患", "Other intervertebral disc disorders"),
    ("M54", "背痛", "Dorsalgia"),
    ("M62.5", "肌肉消耗和萎缩", "Muscle wasting and atrophy"),
    ("M80", "骨质疏松伴有病理性骨折", "Osteoporosis with pathological fracture"),
    ("M81", "骨质疏松", "Osteoporosis without pathological fracture"),
    # N genitourinary system
    ("N03", "慢性肾炎综合征", "Chronic nephritic syndrome"),
    ("N18", "慢性肾脏病", "Chronic kidney disease"),
    ("N18.5", "慢性肾脏病5期", "Chronic kidney disease, stage 5"),
    ("N19", "肾衰竭", "Unspecified kidney failure"),
    ("N20", "肾和输尿管结石", "Calculus of kidney and ureter"),
    ("N39.0", "泌尿道感染", "Urinary tract infection, site not specified"),
    ("N39.4", "其他特指的尿失禁", "Other specified urinary incontinence"),
    ("N40", "前列腺增生", "Hyperplasia of prostate"),
    # R symptoms and signs
    ("R13", "吞咽困难", "Dysphagia"),
    ("R15", "大便失禁", "Faecal incontinence"),
    ("R26", "步态和移动异常", "Abnormalities of gait and mobility"),
    ("R29.6", "倾向于跌倒", "Tendency to fall, not elsewhere classified"),
    ("R32", "尿失禁", "Unspecified urinary incontinence"),
    ("R41.8", "认知功能减退", "Other symptoms involving cognitive functions and awareness"),
    ("R42", "头晕和眩晕", "Dizziness and giddiness"),
    ("R54", "衰老", "Senility (frailty)"),
    ("R63.4", "异常体重减轻", "Abnormal weight loss"),
    # S–T injuries
    ("S06", "颅内损伤", "Intracranial injury"),
    ("S22", "肋骨、胸骨和胸椎骨折", "Fracture of rib(s), sternum and thoracic spine"),
    ("S32", "腰椎和骨盆骨折", "Fracture of lumbar spine and pelvis"),
    ("S42", "肩和上臂骨折", "Fracture of shoulder and upper arm"),
    ("S52", "前臂骨折", "Fracture of forearm"),
    ("S72", "股骨骨折", "Fracture of femur"),
    ("S72.0", "股骨颈骨折", "Fracture of neck of femur"),
    ("T14", "身体未特指部位的损伤", "Injury of unspecified body region"),
    # U special purposes
    ("U07.1", "新型冠状病毒感染", "COVID-19, virus identified"),
    # Z factors influencing health status
    ("Z85", "恶性肿瘤个人史", "Personal history of malignant neoplasm"),
    ("Z95.0", "有心脏起搏器", "Presence of cardiac pacemaker"),
    ("Z96.6", "有矫形外科关节植入物", "Presence of orthopaedic joint implants"),
    ("Z99.2", "依赖肾透析", "Dependence on renal dialysis"),
    ("Z99.3", "依赖轮椅", "Dependence on wheelchair"),
)

CATALOGUE: dict[str, Diagnosis] = {code: Diagnosis(code, zh, en) for code, zh, en in _ENTRIES}


def normalise(code: str | None) -> str:
    """Trimmed, the category upper-case, a placeholder after the dot as ``x``
    (``i10.X00`` → ``I10.x00``). Does not check the format (``is_valid``)."""
    text = (code or "").strip().replace(" ", "")
    head, dot, tail = text.partition(".")
    return head.upper() + dot + tail.lower()


def is_valid(code: str) -> bool:
    """Whether the (normalised) code has the ICD-10 form (module docstring)."""
    return bool(CODE_RE.fullmatch(code))


def find(code: str) -> Diagnosis | None:
    """The catalogue entry for a normalised code: itself, else the nearest broader code in
    the catalogue (``I25.1x01`` → ``I25.1``; ``I10.x00`` → ``I10``); ``None`` if none."""
    candidate = code
    while candidate:
        found = CATALOGUE.get(candidate)
        if found is not None:
            return found
        if len(candidate) <= 3:
            return None
        candidate = candidate[:-1].rstrip(".")
    return None


def search(text: str, limit: int = 20) -> list[Diagnosis]:
    """Catalogue entries whose code starts with ``text`` or whose Chinese or English name
    contains it (case-insensitive), codes first."""
    query = (text or "").strip()
    if not query:
        return []
    upper, lower = query.upper(), query.lower()
    by_code = [d for d in CATALOGUE.values() if d.code.upper().startswith(upper)]
    by_name = [
        d
        for d in CATALOGUE.values()
        if d not in by_code and (query in d.zh or lower in d.en.lower())
    ]
    return (by_code + by_name)[:limit]
