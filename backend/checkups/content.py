"""Our own questionnaire (first version) and the care resources shown with a profile.

The statements were written for this project; they are not taken from any published clinical
scale. Each dimension has four statements; ``reverse`` ones are worded so that agreeing signals
protection, so their scoring is turned round.
"""

from __future__ import annotations

from backend.checkups.models import (
    CareResource,
    Dimension,
    Item,
    PolicyCreate,
    QuestionnaireCreate,
    ScaleLabel,
)

C, P, S, D, E = (
    Dimension.cognitive,
    Dimension.personality,
    Dimension.stress,
    Dimension.support,
    Dimension.emotion,
)

ITEMS: list[tuple[str, Dimension, str, str, bool]] = [
    ("C1", C, "规章制度有时只是走形式，灵活变通一下也无妨。",
     "Rules are sometimes a formality; bending them a little does no harm.", False),
    ("C2", C, "大家都这样做的事，我跟着做也不算什么问题。",
     "If everyone does something, it is no real problem when I do it too.", False),
    ("C3", C, "遇到拿不准的事，我会先查规定或请教同事再决定。",
     "When unsure, I check the rules or ask a colleague before I decide.", True),
    ("C4", C, "我常觉得自己的付出和回报不相称。",
     "I often feel that what I get back does not match what I put in.", False),
    ("P1", P, "为了更大的收益，我愿意冒一些风险。",
     "I am willing to take some chances for a bigger gain.", False),
    ("P2", P, "别人的请求我很难拒绝，即使觉得不妥。",
     "I find it hard to turn down a request, even when it feels wrong.", False),
    ("P3", P, "我做事讲究按部就班、有始有终。",
     "I work step by step and finish what I start.", True),
    ("P4", P, "我很在意别人是否觉得我有面子、有地位。",
     "I care a lot about whether others see me as important.", False),
    ("S1", S, "最近的工作任务让我感到喘不过气。",
     "Lately my workload leaves me short of breath.", False),
    ("S2", S, "下班以后我仍常常为工作上的事烦心。",
     "After work I often keep fretting about work matters.", False),
    ("S3", S, "家庭或经济方面的负担让我压力很大。",
     "Family or money worries put me under heavy pressure.", False),
    ("S4", S, "一般休息一晚，我就能恢复精力。",
     "A night's rest usually gives me my energy back.", True),
    ("D1", D, "遇到困难时，我有可以信赖、倾诉的人。",
     "When things are hard, I have someone I trust to talk to.", True),
    ("D2", D, "家人理解并支持我的工作。",
     "My family understands and backs my work.", True),
    ("D3", D, "在单位里我常感到孤立无援。",
     "At work I often feel on my own, with nobody to turn to.", False),
    ("D4", D, "需要时，同事和领导会伸出援手。",
     "Colleagues and managers lend a hand when I need it.", True),
    ("E1", E, "一点小事就容易让我情绪起伏。",
     "Small things easily swing my mood.", False),
    ("E2", E, "面对诱惑时，我能守住自己的原则。",
     "Faced with temptation, I keep to my principles.", True),
    ("E3", E, "我常感到心情低落、提不起劲。",
     "I often feel low and without drive.", False),
    ("E4", E, "遇到挫折后，我能较快调整好状态。",
     "After a setback I am back on my feet fairly soon.", True),
]  # fmt: skip

SCALE: list[tuple[str, str]] = [
    ("完全不同意", "Strongly disagree"),
    ("比较不同意", "Disagree"),
    ("说不清", "Not sure"),
    ("比较同意", "Agree"),
    ("完全同意", "Strongly agree"),
]


def first_questionnaire() -> QuestionnaireCreate:
    return QuestionnaireCreate(
        code="IC",
        title_zh="廉洁体检 · 心理自评问卷",
        title_en="Integrity check-up · psychological self-evaluation",
        scale=[ScaleLabel(zh=zh, en=en) for zh, en in SCALE],
        items=[
            Item(code=code, dimension=dim, text_zh=zh, text_en=en, reverse=rev)
            for code, dim, zh, en, rev in ITEMS
        ],
        note_prompt_zh="有什么希望组织了解或帮助的吗？（选填，仅本人和本单位纪检监察人员可见）",
        note_prompt_en=(
            "Anything you would like the organisation to know or help with? "
            "(optional; seen only by you and your unit's discipline inspectors)"
        ),
    )


def default_policy() -> PolicyCreate:
    return PolicyCreate(
        psych_weight=0.4,
        post_weight=0.4,
        tenure_weight=0.2,
        note="default: psychological 40 %, post 40 %, time in post 20 %",
    )


RESOURCES: dict[Dimension, tuple[str, str, str, str]] = {
    Dimension.cognitive: (
        "规矩意识小课堂",
        "Rules in everyday work",
        "遇到拿不准的事，先问一句“合规吗”。本单位纪检监察人员随时可以咨询。",
        "When unsure, ask first whether it is allowed. Your unit's discipline inspectors are there to ask.",
    ),
    Dimension.personality: (
        "学会说“不”",
        "Learning to say no",
        "面对不妥的请求，可以礼貌地拒绝并说明规定；也可以请部门负责人出面。",
        "Turn down an improper request politely by pointing to the rule, or let your head handle it.",
    ),
    Dimension.stress: (
        "压力调适",
        "Handling pressure",
        "规律作息、适量运动、与人交流都能缓解压力；需要时可申请心理咨询。",
        "Regular sleep, exercise and talking help with pressure; counselling is available on request.",
    ),
    Dimension.support: (
        "你并不孤单",
        "You are not alone",
        "工会和团体辅导活动欢迎参加；也可以找信任的同事或负责人聊一聊。",
        "Union activities and group sessions are open to you; talk to a colleague or head you trust.",
    ),
    Dimension.emotion: (
        "情绪与意志",
        "Mood and resolve",
        "情绪低落持续两周以上时，请及时寻求专业帮助；组织可以安排心理咨询。",
        "If low mood lasts more than two weeks, seek professional help; counselling can be arranged.",
    ),
}


def resources_for(dimensions: dict[str, float], threshold: float) -> list[CareResource]:
    """Care resources for the dimensions at or above ``threshold`` (all five if none is)."""
    chosen = [d for d in Dimension if dimensions.get(d.value, 0) >= threshold] or list(Dimension)
    return [
        CareResource(dimension=d, title_zh=r[0], title_en=r[1], text_zh=r[2], text_en=r[3])
        for d in chosen
        for r in [RESOURCES[d]]
    ]
