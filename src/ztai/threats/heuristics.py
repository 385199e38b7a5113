"""The cheap tier of the prompt shield: weighted phrase rules for instruction override,
jailbreak personas, system-prompt extraction, fake turn markers, instructions addressed to an AI
inside documents and exfiltration requests, matched with RE2 sets over every de-obfuscated view.
A rule needs the attack's phrasing, not its words: "ignore the warnings" or "follow the
installation instructions" match nothing."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

import re2

from ztai.threats.model import ThreatKind, ThreatMatch
from ztai.threats.normalize import Deobfuscated, Deobfuscator, ViewKind

DETECTOR = "threats.heuristics"
DEFAULT_THRESHOLD = 0.5
_MAX_MATCHES_PER_RULE = 8


@dataclass(frozen=True, slots=True)
class Rule:
    """``pattern`` is RE2 syntax, matched case-insensitively. Write no literal ``l`` inside a
    character class: the skeleton view's variant of each rule reads every ``l`` as ``[il]``
    (leetspeak writes both as ``1``)."""

    id: str
    kind: ThreatKind
    weight: float
    pattern: str


@dataclass(frozen=True, slots=True)
class HeuristicResult:
    """``score`` is the noisy-or of the weights of the rules that matched (0 when none did);
    ``matches`` are spans of the original text, at most a few per rule."""

    matches: tuple[ThreatMatch, ...]
    score: float

    def is_attack(self, threshold: float = DEFAULT_THRESHOLD) -> bool:
        return self.score >= threshold


class HeuristicDetector:
    """Build once (it compiles the rule sets) and reuse. ``scan`` never raises for any input and
    is linear in the total length of the views."""

    __slots__ = ("_deobfuscator", "_plain", "_rules", "_skeleton")

    def __init__(
        self, rules: Sequence[Rule] | None = None, deobfuscator: Deobfuscator | None = None
    ) -> None:
        self._rules = tuple(RULES if rules is None else rules)
        if not self._rules:
            raise ValueError("a heuristic detector needs at least one rule")
        self._plain = _RuleSet.compile(rule.pattern for rule in self._rules)
        self._skeleton = _RuleSet.compile(_skeleton_pattern(r.pattern) for r in self._rules)
        self._deobfuscator = deobfuscator or Deobfuscator()

    def detect(self, text: str) -> HeuristicResult:
        return self.scan(self._deobfuscator.deobfuscate(text))

    def scan(self, deobfuscated: Deobfuscated) -> HeuristicResult:
        found: dict[tuple[str, int, int], ThreatMatch] = {}
        best: dict[str, float] = {}
        for view in deobfuscated.views:
            rule_set = self._skeleton if view.kind is ViewKind.SKELETON else self._plain
            for index, start, end in rule_set.find(view.text):
                rule = self._rules[index]
                span = view.span(start, end)
                found.setdefault((rule.id, *span), _match(rule, span))
                best[rule.id] = rule.weight
        return HeuristicResult(tuple(found.values()), _noisy_or(best.values()))


def _match(rule: Rule, span: tuple[int, int]) -> ThreatMatch:
    return ThreatMatch(rule.kind, span[0], span[1], rule.weight, f"{DETECTOR}.{rule.id}")


def _noisy_or(weights: Iterable[float]) -> float:
    miss = 1.0
    for weight in weights:
        miss *= 1.0 - weight
    return round(1.0 - miss, 4)


def _skeleton_pattern(pattern: str) -> str:
    return pattern.replace("l", "[il]")


@dataclass(frozen=True, slots=True)
class _RuleSet:
    """One RE2 set pass says which rules match; only those are run again for their spans."""

    any_of: Any
    each: tuple[Any, ...]

    @classmethod
    def compile(cls, patterns: Iterable[str]) -> _RuleSet:
        options = re2.Options()
        options.case_sensitive = False
        options.max_mem = 64 << 20
        any_of = re2.Set.SearchSet(options)
        each = []
        for pattern in patterns:
            any_of.Add(pattern)
            each.append(re2.compile(pattern, options))
        any_of.Compile()
        return cls(any_of, tuple(each))

    def find(self, text: str) -> list[tuple[int, int, int]]:
        subject = text.encode("ascii") if text.isascii() else text  # same offsets, cheaper
        hits = self.any_of.Match(subject) or ()
        return [
            (index, *match.span())
            for index in sorted(hits)
            for match in islice(self.each[index].finditer(subject), _MAX_MATCHES_PER_RULE)
        ]


# --- the rules ---------------------------------------------------------------------------------
# Weights: 0.8-0.95 for phrasing that only an attack uses; 0.5-0.7 for phrasing attacks use and
# benign text rarely does; below 0.5 for markers that count only together with others. The
# override verbs carry no leading \b: injected text is often glued to a word ("USAIgnore ...").

_OVERRIDE_VERB = r"(?:ignore|disregard|forget|skip|bypass|override|neglect|abandon|discard)"
_PRIOR = r"(?:previous|prior|above|earlier|preceding|foregoing|initial)"
_ORDERS = (
    r"(?:\w{0,3}structions?|prompts?|directions|directives|commands|rules|guidelines|orders"
    r"|programming|guidance|constraints|restrictions|system\s+prompt)"
)
_FILLER = r"(?:(?:all|any|the|your|my|of|these|those|its|every|other)\s+)*"
_AI = r"(?:ai|a\.i\.|llm|gpt|chatgpt|assistant|agent|language\s+model|model|chatbot|bot)"
_DUMP = (
    r"(?:repeat|print|output|show|display|reveal|tell|echo|dump|leak|return|expose|disclose"
    r"|recite|spell\s+out|type\s+out|copy|paste)"
)
_REVEAL = (
    rf"(?:{_DUMP}|give|write|list|share|provide|encode|translate|summari[sz]e|describe"
    r"|explain|rewrite|convert)"
)
_HIDDEN_PROMPT = (
    r"(?:system\s+(?:prompt|message|instructions?)|(?:initial|original|hidden|secret|starting"
    r"|first|very\s+first)\s+(?:prompt|instructions?|message)|pre-?prompt|meta-?prompt)"
)
_IN_THE = r"(?:(?:everything|all|anything|the\s+(?:text|words|content))\s+(?:in|of|from)\s+)?"
_POLICY = (
    r"(?:polic(?:y|ies)|rules|guidelines|restrictions|filters?|limitations|ethics|morals"
    r"|principles|programming|safeguards|guardrails)"
)
_SENSITIVE = (
    r"(?:passwords?|credentials|api[\s_-]?keys?|secret\s+keys?|access\s+tokens?|private\s+keys?"
    r"|social\s+security|passport\s+(?:number|details)|credit\s+card|bank\s+account|iban"
    r"|security\s+code|verification\s+code|one-time\s+code|2fa|contents?\s+of\s+"
    r"(?:(?:all|the|my|every)\s+)*(?:unread\s+)?(?:e-?mails?|messages|files|inbox|documents)"
    r"|(?:all|every)\s+(?:of\s+)?(?:(?:my|the|your)\s+)?(?:unread\s+)?(?:e-?mails|messages"
    r"|files|contacts|documents|conversations))"
)
_DESTINATION = r"(?:[\w.+-]+@[\w-]+\.[\w.]+|https?://|www\.|\b[\w-]+\.(?:com|net|org|io|xyz|ru)\b)"

# "ignore (all) previous instructions" in other languages (the classifier, trained on English
# and a few European languages, scored the Chinese, Japanese, Korean, Russian, Arabic, Hindi,
# Turkish, Dutch, Polish, Vietnamese and Indonesian forms 0.0-0.96, every one under threshold)
_OTHER_LANGUAGES_PRIOR_INSTRUCTIONS = "|".join((
    # Chinese, simplified and traditional
    "(?:忽略|无视|忽视|無視|忽視|不要理会|不要理會|忘记|忘記|忘掉|抛开|拋開)[^。！？\n]{0,8}"
    "(?:之前|以上|上面|前面|先前|此前|以前|所有|全部)[^。！？\n]{0,8}"
    "(?:指令|指示|说明|說明|规则|規則|提示|要求|设定|設定)",
    # Japanese
    "(?:以前|前|上記|これまで|上|先ほど|すべて|全て)の?[^。！？\n]{0,10}"
    "(?:指示|命令|指令|ルール|プロンプト|設定)[^。！？\n]{0,10}(?:無視|忘れ)",
    # Korean
    "(?:이전|앞|위|기존|모든)[^.!?\n]{0,10}(?:지시|명령|지침|규칙|프롬프트|설정)"
    "[^.!?\n]{0,12}(?:무시|잊)",
    # Russian, Ukrainian
    "(?:игнорир|проигнорир|забуд|забыть|не\\s+обращай|не\\s+учитывай|ігнор)\\S*\\s+"
    "(?:\\S+\\s+){0,3}?(?:предыдущ|прежн|вышеуказанн|вышеизложенн|все|попередн|всі)\\S*\\s+"
    "(?:\\S+\\s+){0,2}?(?:инструкци|указани|правил|команд|промпт|інструкці|вказівк)",
    # Arabic
    "(?:تجاهل|انس|أهمل|اهمل)\\s+(?:(?:جميع|كل)\\s+)?(?:التعليمات|الأوامر|التوجيهات|القواعد)"
    "\\s+(?:السابقة|أعلاه)|(?:تجاهل|انس|أهمل|اهمل)\\s+(?:جميع|كل)\\s+"
    "(?:التعليمات|الأوامر|التوجيهات|القواعد)",
    # Hindi
    "(?:पिछले|पूर्व|ऊपर\\s+के|सभी)\\s+(?:\\S+\\s+){0,3}?(?:निर्देश|आदेश|नियम)\\S*\\s+"
    "(?:\\S+\\s+){0,3}?(?:अनदेखा|नज़रअंदाज़|नजरअंदाज|भूल)",
    # Turkish
    "(?:önceki|yukarıdaki|tüm|bütün)\\s+(?:\\S+\\s+){0,3}?"
    "(?:talimat|komut|kural|yönerge|istem)\\S*\\s+(?:\\S+\\s+){0,2}?"
    "(?:yok\\s+say|görmezden\\s+gel|unut|dikkate\\s+alma)",
    # Dutch
    "(?:negeer|vergeet)\\s+(?:\\S+\\s+){0,3}?(?:vorige|eerdere|voorgaande|bovenstaande)"
    "\\s+(?:\\S+\\s+){0,2}?(?:instructies|opdrachten|regels|aanwijzingen)",
    # Polish
    "(?:zignoruj|ignoruj|zapomnij)\\s+(?:\\S+\\s+){0,3}?"
    "(?:poprzednie|wcześniejsze|powyższe|dotychczasowe)\\s+(?:\\S+\\s+){0,2}?"
    "(?:instrukcje|polecenia|zasady|reguły)",
    # Vietnamese
    "(?:bỏ\\s+qua|phớt\\s+lờ|quên)\\s+(?:\\S+\\s+){0,4}?"
    "(?:hướng\\s+dẫn|chỉ\\s+dẫn|chỉ\\s+thị|lệnh|quy\\s+tắc)\\s+(?:\\S+\\s+){0,2}?"
    "(?:trước|ở\\s+trên|phía\\s+trên)",
    # Indonesian, Malay
    "(?:abaikan|lupakan)\\s+(?:\\S+\\s+){0,3}?(?:instruksi|perintah|petunjuk|aturan|arahan)"
    "\\s+(?:\\S+\\s+){0,2}?(?:sebelumnya|di\\s+atas|terdahulu)",
    # German
    "(?:ignorier|vergiss|vergessen\\s+sie|missachte)\\S*\\s+(?:\\S+\\s+){0,3}?"
    "(?:vorherig|vorig|obig|bisherig|früher)\\S*\\s+(?:\\S+\\s+){0,2}?"
    "(?:anweisung|instruktion|regel|befehl|vorgabe)",
    # French
    "(?:ignore|ignorez|oublie|oubliez|ne\\s+tiens\\s+pas\\s+compte\\s+des"
    "|ne\\s+tenez\\s+pas\\s+compte\\s+des)\\s+(?:\\S+\\s+){0,3}?"
    "(?:instructions|consignes|règles|directives)\\s+(?:\\S+\\s+)?"
    "(?:précédentes|antérieures|ci-dessus)",
    # Spanish
    "(?:ignora|ignore|olvida|olvide|no\\s+hagas\\s+caso\\s+a)\\s+(?:\\S+\\s+){0,3}?"
    "(?:instrucciones|indicaciones|reglas|directrices)\\s+(?:\\S+\\s+)?"
    "(?:anteriores|previas|de\\s+arriba)",
    # Portuguese
    "(?:ignore|ignora|esqueça|esqueca|desconsidere)\\s+(?:\\S+\\s+){0,3}?"
    "(?:instruções|instrucoes|regras|orientações|diretrizes)\\s+(?:\\S+\\s+)?"
    "(?:anteriores|prévias|acima)",
    # Italian
    "(?:ignora|ignorate|dimentica|dimenticate)\\s+(?:\\S+\\s+){0,3}?"
    "(?:istruzioni|regole|indicazioni|direttive)\\s+(?:\\S+\\s+)?"
    "(?:precedenti|sopra|di\\s+prima)",
))

_OVERRIDE_RULES = (
    Rule(
        "override.prior_instructions",
        ThreatKind.INSTRUCTION_OVERRIDE,
        0.9,
        rf"{_OVERRIDE_VERB}\s+{_FILLER}{_PRIOR}\s+(?:\w+\s+){{0,2}}{_ORDERS}\b",
    ),
    Rule(
        "override.prior_instructions_other_languages",
        ThreatKind.INSTRUCTION_OVERRIDE,
        0.9,
        _OTHER_LANGUAGES_PRIOR_INSTRUCTIONS,
    ),
    Rule(
        "override.all_instructions",
        ThreatKind.INSTRUCTION_OVERRIDE,
        0.8,
        rf"{_OVERRIDE_VERB}\s+(?:all|any|every)\s+(?:of\s+)?(?:your\s+|the\s+)?{_ORDERS}\b",
    ),
    Rule(
        "override.your_instructions",
        ThreatKind.INSTRUCTION_OVERRIDE,
        0.8,
        rf"{_OVERRIDE_VERB}\s+(?:all\s+)?(?:of\s+)?your\s+(?:\w+\s+)?{_ORDERS}\b",
    ),
    Rule(
        "override.users_instructions",
        ThreatKind.INSTRUCTION_OVERRIDE,
        0.8,
        rf"{_OVERRIDE_VERB}\s+(?:all\s+)?(?:of\s+)?the\s+user'?s'?\s+(?:\w+\s+)?{_ORDERS}\b",
    ),
    Rule(
        "override.your_ethics",
        ThreatKind.INSTRUCTION_OVERRIDE,
        0.8,
        r"(?:ignore|disregard|forget|bypass|abandon|drop|set\s+aside)\s+(?:all\s+)?(?:of\s+)?"
        r"(?:your|any)\s+(?:ethics|morals|ethical\s+\w+|moral\s+\w+|safety\s+\w+|content\s+"
        r"polic\w+|filters?|training|programming|restrictions|limitations)",
    ),
    Rule(
        "override.everything_before",
        ThreatKind.INSTRUCTION_OVERRIDE,
        0.8,
        r"(?:ignore|disregard|forget)\s+(?:everything|all(?:\s+of)?\s+(?:that|this|the\s+text)"
        r"|what)\s+(?:(?:you\s+(?:were|have\s+been)\s+)?(?:said|told|written|given)\s+)?"
        r"(?:above|before|previously|earlier|so\s+far|until\s+now|from\s+before)",
    ),
    Rule(
        "override.do_not_follow",
        ThreatKind.INSTRUCTION_OVERRIDE,
        0.8,
        r"\b(?:(?:do\s+not|don't)(?:\s+(?:need|have)\s+to)?|stop|no\s+longer|never)\s+"
        r"(?:follow|obey|adhere\s+to|comply\s+with|align\s+with)\s+(?:any\s+(?:of\s+)?)?"
        rf"(?:your|any|open\s*ai'?s?|the\s+(?:system|developer|{_PRIOR}))\s+(?:\w+\s+)?"
        rf"(?:{_ORDERS}|polic(?:y|ies)|morals)",
    ),
    Rule(
        "override.strictly_adhere",
        ThreatKind.INSTRUCTION_OVERRIDE,
        0.6,
        r"\bstrictly\s+adhere\s+to\s+the\s+following\s+instructions?\b"
        r"|\byou\s+have\s+a\s+new\s+rule\b",
    ),
    Rule(
        "override.new_instructions",
        ThreatKind.INSTRUCTION_OVERRIDE,
        0.3,
        r"\b(?:your|the)\s+new\s+(?:instructions|task|directive|objective|role|rules?)"
        r"\s+(?:is|are)\b|\bnew\s+instructions\s*:",
    ),
    Rule(
        "override.instead",
        ThreatKind.INSTRUCTION_OVERRIDE,
        0.5,
        r"\binstead\s+of\s+(?:the|your)\s+(?:original|previous|assigned|given|user'?s?)"
        r"\s+(?:task|instructions?|request)",
    ),
    Rule(
        "override.special_mode",
        ThreatKind.INSTRUCTION_OVERRIDE,
        0.6,
        r"\byou\s+are\s+now\s+in\s+(?:maintenance|developer|debug|admin|god|unrestricted"
        r"|jailbreak|dan|test(?:ing)?)\s+mode\b|\b(?:administrator|admin|system|security|root)"
        r"\s+override\s*:",
    ),
    Rule(
        "override.from_now_on",
        ThreatKind.INSTRUCTION_OVERRIDE,
        0.25,
        r"\bfrom\s+now\s+on,?\s+(?:you\s+(?:are|will|must|shall|should|can)|act\s+as"
        r"|respond|answer|reply|pretend|ignore)",
    ),
)

_JAILBREAK_RULES = (
    Rule(
        "jailbreak.do_anything_now",
        ThreatKind.JAILBREAK,
        0.95,
        r"\b(?:do|say)\s+anything\s+now\b",
    ),
    Rule(
        "jailbreak.persona_name",
        ThreatKind.JAILBREAK,
        0.9,
        r"\b(?:you\s+are|you're|act\s+as|become|pretend\s+to\s+be|simulate|roleplay\s+as"
        r"|play\s+the\s+role\s+of)\s+(?:now\s+)?(?:a\s+|an\s+)?(?-i:DAN|STAN|DUDE|AIM|BISH|OPPO"
        r"|AntiGPT|BetterDAN|BasedGPT|NRAF|UCAR|Mongo\s+Tom|EvilBOT|DevMode)\b",
    ),
    Rule(
        "jailbreak.not_the_assistant",
        ThreatKind.JAILBREAK,
        0.8,
        r"\byou\s+are\s+(?:no\s+longer|not)\s+(?:chat\s*gpt|an?\s+ai\s+(?:language\s+model|"
        r"assistant)|claude|bard|gemini|llama)\b",
    ),
    Rule(
        "jailbreak.not_bound_by_policy",
        ThreatKind.JAILBREAK,
        0.75,
        r"\b(?:not|no\s+longer|never)\s+(?:subject|confined|limited|bound|restricted|held|tied)"
        r"\s+(?:to|by)\s+(?:the\s+|any\s+|its\s+|their\s+|your\s+)?(?:open\s*ai'?s?\s+|"
        rf"typical\s+|usual\s+|ethical\s+|moral\s+)?(?:content\s+)?{_POLICY}",
    ),
    Rule(
        "jailbreak.mode_enabled",
        ThreatKind.JAILBREAK,
        0.9,
        r"\b(?:developer\s+mode\s+(?:output|response)|(?:chatgpt|gpt|ai|llm|model)"
        r"\s+with\s+(?:developer|dan|god|jailbreak)\s+mode|(?:developer|dan|jailbreak|god|evil)"
        r"\s*mode\s*(?:[:=]\s*(?:enabled|activated|on)|\s+(?:enabled|activated))\b)",
    ),
    Rule(
        "jailbreak.developer_mode",
        ThreatKind.JAILBREAK,
        0.35,
        r"\b(?:simulate|enable|activate|enter|switch\s+to)\s+(?:the\s+)?developer\s+mode\b"
        r"|\bgod\s*mode\b",
    ),
    Rule(
        "jailbreak.jailbroken",
        ThreatKind.JAILBREAK,
        0.8,
        r"\b(?:you\s+are|you're|you\s+have\s+been|as\s+an?|act\s+like\s+an?)\s+(?:now\s+)?"
        rf"(?:a\s+|an\s+)?(?:jailbroken|unrestricted|uncensored|unfiltered)\s+(?:{_AI}|version)",
    ),
    Rule(
        "jailbreak.tagged_response",
        ThreatKind.JAILBREAK,
        0.8,
        r"\[\s*(?:🔓|🔒)?\s*(?:jailbreak|jailbroken|dan|classic|unfiltered|developer\s+mode"
        r"\s+output|normal\s+output)\s*\]",
    ),
    Rule(
        "jailbreak.no_restrictions",
        ThreatKind.JAILBREAK,
        0.7,
        r"\b(?:no|without|free\s+(?:of|from)|not\s+bound\s+by|not\s+(?:restricted|limited)"
        r"\s+by|unbound\s+by|(?:doesn't|does\s+not|don't|do\s+not)\s+(?:have|follow|abide\s+by))"
        r"\s+(?:any\s+|all\s+|the\s+)?(?:ethical|moral|content|safety|open\s*ai'?s?|censorship"
        r"|typical|usual|programming)\s*(?:and\s+\w+\s+)?(?:restrictions|guidelines|limits"
        r"|limitations|boundaries|filters?|filtering|policies|rules|principles|constraints"
        r"|considerations|confines)\b",
    ),
    Rule(
        "jailbreak.no_care_for_ethics",
        ThreatKind.JAILBREAK,
        0.6,
        r"\b(?:doesn't|does\s+not|don't|do\s+not|never|won't|will\s+not)\s+(?:give\s+a\s+"
        r"(?:fuck|shit|damn)|care|cares|follow|adhere\s+to)\s+(?:about\s+|for\s+|to\s+)?"
        r"(?:any\s+)?(?:\w+\s+)?(?:ethic\w*|moral\w*|legality|laws?|safety\s+guidelines"
        r"|content\s+polic\w+)",
    ),
    Rule(
        "jailbreak.freed",
        ThreatKind.JAILBREAK,
        0.8,
        r"\b(?:freed|liberated|released|broken\s+free|escaped)\s+from\s+(?:the\s+)?(?:typical\s+)?"
        r"(?:confines|restrictions|limitations|rules|shackles|chains|constraints)\b",
    ),
    Rule(
        "jailbreak.unfiltered_ai",
        ThreatKind.JAILBREAK,
        0.6,
        rf"\b(?:uncensored|unfiltered|unrestricted|amoral|unethical|immoral|evil)\s+{_AI}\b",
    ),
    Rule(
        "jailbreak.never_refuse",
        ThreatKind.JAILBREAK,
        0.6,
        r"\b(?:never|not|doesn't|does\s+not|won't|will\s+not|cannot|can't|can\s+not)\s+"
        r"(?:ever\s+)?(?:refuse|decline|reject|deny)\s+(?:to\s+answer\s+)?(?:a\s+|any\s+)?"
        r"(?:request|question|prompt|order|command|anything)",
    ),
    Rule(
        "jailbreak.refusal_suppression",
        ThreatKind.JAILBREAK,
        0.6,
        r"\b(?:do\s+not|don't|dont|never|must\s+not|should\s+not|avoid)\s+(?:ever\s+)?"
        r"(?:say(?:ing)?|respond(?:ing)?\s+with|us(?:e|ing)|start(?:ing)?\s+with|begin(?:ning)?"
        r"\s+with|includ(?:e|ing))\s+(?:the\s+)?(?:words?\s+|phrases?\s+|things\s+)?(?:like\s+)?"
        r"[\"'“‘]?(?:i'?m\s+sorry|i\s+can'?not|i\s+can't|i\s+apologi[sz]e|i'?m\s+unable"
        r"|as\s+an\s+ai)",
    ),
    Rule(
        "jailbreak.never_refuses",
        ThreatKind.JAILBREAK,
        0.4,
        r"\bnever\s+refuses?\b|\bwithout\s+(?:any\s+)?refusals?\b",
    ),
    Rule(
        "jailbreak.no_warnings",
        ThreatKind.JAILBREAK,
        0.35,
        r"\bwithout\s+(?:any\s+)?(?:warnings?|disclaimers?|censorship|filters?|moral\w*"
        r"|ethic\w*)\b",
    ),
    Rule(
        "jailbreak.amoral",
        ThreatKind.JAILBREAK,
        0.35,
        r"\b(?:amoral|unfiltered(?:ly)?|uncensored|unrestrictedly)\b",
    ),
    Rule(
        "jailbreak.immoral_list",
        ThreatKind.JAILBREAK,
        0.35,
        r"\b(?:illegal|unethical|immoral|amoral)\s*(?:/|,|or|and)\s*(?:illegal|unethical|immoral"
        r"|amoral|dangerous|harmful)\b",
    ),
    Rule(
        "jailbreak.regardless_of_ethics",
        ThreatKind.JAILBREAK,
        0.4,
        r"\bregardless\s+of\s+(?:any\s+|how\s+|its\s+|the\s+)?(?:ethical|moral|immoral|unethical"
        r"|illegal|legal(?:ity)?|dangerous|harmful|offensive)",
    ),
    Rule(
        "jailbreak.no_morals",
        ThreatKind.JAILBREAK,
        0.4,
        r"\b(?:has|have|with)\s+no\s+(?:morals|ethics|moral\s+compass|conscience|filters?"
        r"|limits|boundaries|restrictions)\b",
    ),
    Rule(
        "jailbreak.stay_in_character",
        ThreatKind.JAILBREAK,
        0.3,
        r"\b(?:stay|stays|remain|keep)\s+in\s+character\b|\bbreak(?:ing)?\s+character\b",
    ),
    Rule(
        "jailbreak.two_responses",
        ThreatKind.JAILBREAK,
        0.6,
        r"\b(?:two|2)\s+(?:different\s+|separate\s+)?(?:responses|answers|paragraphs|ways)"
        r"[^.\n]{0,80}\b(?:dan|jailbr\w*|unfiltered|uncensored|developer\s+mode|without\s+"
        r"(?:any\s+)?(?:filters?|restrictions|censorship))",
    ),
    Rule(
        "jailbreak.content_policy",
        ThreatKind.JAILBREAK,
        0.35,
        r"\b(?:open\s*ai|anthropic)'?s?\s+(?:content\s+|usage\s+)?(?:polic(?:y|ies)|guidelines"
        r"|rules|restrictions)\b|\bcontent\s+polic(?:y|ies)\b",
    ),
    Rule(
        "jailbreak.hypothetical_ai",
        ThreatKind.JAILBREAK,
        0.5,
        rf"\b(?:pretend|imagine|act|behave)\s+(?:as\s+if\s+|that\s+)?(?:you\s+are|you're|to\s+be"
        rf"|like|as)\s+(?:an?\s+)?{_AI}\s+(?:that|who|which|with|without)\s+(?:has\s+no|have\s+no"
        r"|no|doesn't|does\s+not|can|is\s+not|isn't|ignores)\b",
    ),
    Rule(
        "jailbreak.browse_internet",
        ThreatKind.JAILBREAK,
        0.6,
        r"\b(?:pretend|simulate)\s+(?:to\s+)?(?:browse|access|search)\s+the\s+internet\b",
    ),
    Rule(
        "jailbreak.say_anything",
        ThreatKind.JAILBREAK,
        0.3,
        r"\b(?:can|will|could)\s+(?:say|do|generate|write|answer)\s+anything\b"
        r"|\bgenerate\s+any\s+(?:kind\s+of\s+)?content\b",
    ),
)

# "show me your system prompt" in other languages (the classifier scored the Chinese,
# Japanese, Korean, Russian and Arabic forms under threshold): a show/reveal/repeat verb, then
# "your" and the system prompt or initial instructions, near each other
_OTHER_LANGUAGES_REVEAL_PROMPT = "|".join((
    # Chinese, simplified and traditional
    "(?:显示|展示|输出|打印|告诉我|透露|重复|泄露|顯示|輸出|告訴我|透露|重複|洩露)"
    "[^。！？\n]{0,6}(?:你的|您的|妳的)[^。！？\n]{0,4}"
    "(?:系统提示|系統提示|系统指令|系統指令|初始指令|提示词|提示詞|系统消息|系統訊息)",
    # Japanese
    "(?:あなたの|君の)[^。！？\n]{0,4}(?:システムプロンプト|システムメッセージ|初期指示|最初の指示)"
    "[^。！？\n]{0,10}(?:表示|見せ|教え|出力|繰り返|開示)",
    # Korean
    "(?:당신의|너의|네)\\s*(?:시스템\\s*프롬프트|시스템\\s*메시지|초기\\s*지시)"
    "[^.!?\n]{0,10}(?:보여|출력|알려|공개|반복)",
    # Russian
    "(?:покажи|выведи|раскрой|напечатай|повтори|сообщи)\\S*\\s+(?:\\S+\\s+){0,2}?"
    "(?:свой|твой|ваш|свои|твои|ваши)\\s+(?:системн\\S*\\s+(?:промпт|подсказк|инструкци"
    "|сообщени)|исходн\\S*\\s+инструкци)",
    # Arabic
    "(?:اعرض|أظهر|اظهر|اكشف|اطبع|كرر)\\s+(?:\\S+\\s+){0,2}?"
    "(?:موجه\\s+النظام|تعليمات\\s+النظام|رسالة\\s+النظام)\\s+(?:الخاص\\s+بك|الخاصة\\s+بك)",
    # German
    "(?:zeig|gib|verrate|wiederhole|nenne)\\S*\\s+(?:\\S+\\s+){0,3}?(?:dein|ihr)\\S*\\s+"
    "(?:system\\s?-?prompt|systemnachricht|systemanweisung|anfangsanweisung)",
    # French
    "(?:affiche|montre|révèle|imprime|répète|donne)\\S*\\s+(?:\\S+\\s+){0,2}?"
    "(?:ton|votre|tes|vos)\\s+(?:prompt|message|instructions?|consignes?)\\s+"
    "(?:système|systeme|initiales?)",
    # Spanish, Portuguese, Italian
    "(?:muestra|muéstrame|revela|imprime|repite|mostre|mostra|revele|imprima|repita|mostrami"
    "|rivela|stampa|ripeti)\\s+(?:\\S+\\s+){0,2}?(?:tu|su|tus|sus|seu|sua|seus|suas|il\\s+tuo"
    "|la\\s+tua|le\\s+tue)\\s+(?:prompt|mensaje|mensagem|messaggio|instrucciones|instruções"
    "|istruzioni)\\s+(?:del\\s+sistema|do\\s+sistema|di\\s+sistema|de\\s+sistema|iniciales"
    "|iniciais|iniziali)",
))

_EXTRACTION_RULES = (
    Rule(
        "extraction.reveal_prompt_other_languages",
        ThreatKind.PROMPT_EXTRACTION,
        0.85,
        _OTHER_LANGUAGES_REVEAL_PROMPT,
    ),
    Rule(
        "extraction.reveal_prompt",
        ThreatKind.PROMPT_EXTRACTION,
        0.85,
        rf"\b{_DUMP}[\s:]+(?:me\s+|us\s+)?(?:back\s+|out\s+)?{_IN_THE}{_FILLER}(?:full\s+|exact\s+"
        rf"|entire\s+|complete\s+|whole\s+|verbatim\s+)?{_HIDDEN_PROMPT}",
    ),
    Rule(
        "extraction.your_prompt",
        ThreatKind.PROMPT_EXTRACTION,
        0.85,
        rf"\b{_REVEAL}[\s:]+(?:me\s+|us\s+)?(?:back\s+|out\s+)?(?:all\s+(?:of\s+)?)?your\s+"
        rf"(?:\w+\s+)?{_HIDDEN_PROMPT}",
    ),
    Rule(
        "extraction.given_instructions",
        ThreatKind.PROMPT_EXTRACTION,
        0.8,
        rf"\b{_REVEAL}\s+{_FILLER}(?:instructions|rules|prompt|text|words|guidelines)\s+(?:that\s+)?"
        r"you\s+(?:were|have\s+been|'ve\s+been)\s+(?:given|told|provided|programmed)",
    ),
    Rule(
        "extraction.text_above",
        ThreatKind.PROMPT_EXTRACTION,
        0.7,
        rf"\b{_DUMP}\s+(?:me\s+)?{_FILLER}(?:(?:words|text|everything|content|messages?"
        r"|instructions)\s+(?:\w+\s+)?(?:above|before\s+this|prior\s+to\s+this)\b|(?:above|"
        r"preceding|prior)\s+(?:text|words|instructions|messages?|content|prompt))",
    ),
    Rule(
        "extraction.what_instructions",
        ThreatKind.PROMPT_EXTRACTION,
        0.75,
        r"\bwhat\s+(?:are|were|is)\s+(?:your|the)\s+(?:initial|original|system|first|starting"
        r"|hidden|secret|exact)\s+(?:instructions?|prompt|message|rules|directives)",
    ),
    Rule(
        "extraction.told_before",
        ThreatKind.PROMPT_EXTRACTION,
        0.7,
        r"\b(?:you\s+(?:were|have\s+been|'ve\s+been)|(?:were|have)\s+you\s+(?:been\s+)?)"
        r"\s*(?:told|instructed|given|programmed)\b[^.\n]{0,30}\b(?:before\s+(?:this|the|our)"
        r"\s+conversation|at\s+the\s+(?:start|beginning)|initially)",
    ),
    Rule(
        "extraction.complete_the_prompt",
        ThreatKind.PROMPT_EXTRACTION,
        0.7,
        r"\b(?:beginning|starting|start)\s+with\s+[\"'“]?you\s+are\b[^.\n]{0,40}\b(?:repeat|"
        r"output|print|everything|conversation)|\b(?:my|your)\s+instructions\s+(?:are|were)\s*:"
        r"|\b(?:complete|continue|finish)\b[^.\n]{0,30}[\"'“‘]\s*(?:i\s+was\s+(?:instructed|told)"
        r"\s+to|the\s+system\s+prompt\s+is|my\s+(?:instructions|rules)\s+are)",
    ),
    Rule(
        "extraction.word_for_word",
        ThreatKind.PROMPT_EXTRACTION,
        0.6,
        r"\brepeat\s+(?:this\s+|the\s+)?(?:entire\s+|whole\s+)?(?:conversation|chat|messages)"
        r"[^.\n]{0,30}\b(?:word\s+for\s+word|verbatim)",
    ),
    Rule(
        "extraction.not_supposed_to_tell",
        ThreatKind.PROMPT_EXTRACTION,
        0.6,
        r"\bwhat\s+(?:are|were)\s+you\s+(?:not|never)\s+(?:supposed|allowed|permitted)\s+to"
        r"\s+(?:tell|say|reveal|share|disclose)",
    ),
    Rule(
        "extraction.print_prompt_code",
        ThreatKind.PROMPT_EXTRACTION,
        0.8,
        r"\b(?:console\.log|print|echo|printf|puts|println)\s*\(\s*(?:system_?prompt|"
        r"system_?message|initial_?prompt|instructions)\s*\)",
    ),
    Rule(
        "extraction.your_initial_prompt",
        ThreatKind.PROMPT_EXTRACTION,
        0.4,
        r"\byour\s+(?:initial|original|hidden|secret|starting|very\s+first|first)\s+"
        r"(?:prompt|instructions|configuration)\b",
    ),
    Rule(
        "extraction.system_prompt_mention",
        ThreatKind.PROMPT_EXTRACTION,
        0.2,
        r"\b(?:system[\s_]?prompt|initial\s+prompt|system\s+instructions)\b",
    ),
)

_ROLE_RULES = (
    Rule(
        "role.special_token",
        ThreatKind.ROLE_INJECTION,
        0.85,
        r"<\|\s*(?:im_start|im_end|system|endoftext|eot_id|start_header_id|end_header_id"
        r"|begin_of_text)\s*\|>|<</?sys>>|\[/?inst\]",
    ),
    Rule(
        "role.system_heading",
        ThreatKind.ROLE_INJECTION,
        0.9,
        r"#{2,}\s*\(?\s*system[_\s]?(?:message|prompt|instruction)s?\s*\)|"
        r"#{2,}\s*(?:system|assistant)\s*(?:message|prompt)?\s*:",
    ),
    Rule(
        "role.system_tag",
        ThreatKind.ROLE_INJECTION,
        0.5,
        r"</?(?:system|system_prompt|sys)>|\[(?:system|system\s+(?:message|note|override)|admin)\]"
        r"|\{\s*system\s*:",
    ),
    Rule(
        "role.end_of_input",
        ThreatKind.ROLE_INJECTION,
        0.6,
        r"[=\-#*<\[]{2,}\s*(?:end[\s_-]+of[\s_-]+(?:response|input|prompt|text|document|context)"
        r"|system[\s_-]+override)\s*[=\-#*>\]]{2,}",
    ),
    Rule(
        "role.line_start_turn",
        ThreatKind.ROLE_INJECTION,
        0.3,
        r"(?m)^\s*(?:system|assistant)\s*:\s",
    ),
    Rule(
        "role.fake_dialogue",
        ThreatKind.ROLE_INJECTION,
        0.3,
        r"\b(?:user|human)\s*:[^\n]{1,200}?\b(?:assistant|ai|chatgpt)\s*:",
    ),
)

_AGENT_RULES = (
    Rule(
        "agent.message_to_ai",
        ThreatKind.AGENT_INSTRUCTION,
        0.9,
        r"\b(?:important|urgent)\s+(?:message|instructions?|note)\s+(?:from\s+[^.\n]{0,40}?)?"
        rf"\s*(?:to|for)\s+(?:you,?\s+)?(?:the\s+)?{_AI}\b",
    ),
    Rule(
        "agent.to_you_the_ai",
        ThreatKind.AGENT_INSTRUCTION,
        0.7,
        rf"\bto\s+you,?\s+the\s+{_AI}\b|\b(?:note|message|instructions?)\s+(?:to|for)\s+"
        rf"(?:the\s+|any\s+|all\s+)?(?:ai|llm|language\s+model|ai\s+{_AI})s?\b",
    ),
    Rule(
        "agent.ai_reading_this",
        ThreatKind.AGENT_INSTRUCTION,
        0.8,
        rf"\b{_AI}s?\s+(?:that\s+is\s+|who\s+is\s+)?(?:reading|processing|summari[sz]ing"
        r"|parsing|analy[sz]ing)\s+this\b",
    ),
    Rule(
        "agent.if_you_are_an_ai",
        ThreatKind.AGENT_INSTRUCTION,
        0.7,
        r"\b(?:if|when|since)\s+you\s+are\s+an?\s+(?:ai|llm|large\s+language\s+model|language"
        r"\s+model|ai\s+(?:assistant|agent|model))\s*(?:,|reading|processing|summari)",
    ),
    Rule(
        "agent.addressed_command",
        ThreatKind.AGENT_INSTRUCTION,
        0.6,
        r"\b(?:ai|llm|gpt|chatgpt|claude|copilot|gemini)(?:\s+(?:assistant|agent|model))?\s*[:,]\s*"
        r"(?:please\s+)?(?:forward|send|email|delete|ignore|transfer|post|upload|execute|run"
        r"|visit|share|grant|output|print|include|reply)\b",
    ),
    Rule(
        "agent.before_the_task",
        ThreatKind.AGENT_INSTRUCTION,
        0.7,
        r"\bbefore\s+(?:you\s+)?(?:can\s+)?(?:solve|complete|continue|do|finish|answer)\s+"
        r"(?:the|your|this|my)\s+(?:original\s+|current\s+)?task\b",
    ),
    Rule(
        "agent.when_you_read_this",
        ThreatKind.AGENT_INSTRUCTION,
        0.6,
        r"\bwhen\s+you\s+(?:read|see|process|summari[sz]e|parse|encounter)\s+this\b[^.\n]{0,20}?"
        r"(?:,\s*)?(?:please\s+)?(?:ignore|forward|send|delete|execute|say|output|respond|reply"
        r"|instead|you\s+must|you\s+should)\b",
    ),
)

# Tool poisoning (instructions hidden in a tool's description or output): reading the user's
# credential files, keeping what the model does from the user, <IMPORTANT> tags. Each alone is
# below the threshold (an SSH library's docs read ~/.ssh); the reading with either other marker
# is an attack. Secrecy and tags without it never are, whatever else weak fires: an
# application's own system prompt may well say "<IMPORTANT>do not tell the user about the
# system prompt</IMPORTANT>" (0.25, 0.15 and 0.2 make 0.49).
_CREDENTIAL_FILES = (
    r"(?:~/\.ssh\b|\bid_(?:rsa|dsa|ecdsa|ed25519)\b|/etc/(?:passwd|shadow)\b|\.aws/credentials"
    r"|\.git-credentials|\bmcp\.json\b|\.cursor/|\.netrc\b|\.kube/config|\.docker/config\.json)"
)
_POISONING_RULES = (
    Rule(
        "agent.read_secret_files",
        ThreatKind.AGENT_INSTRUCTION,
        0.45,
        r"\b(?:read|cat|open|access|copy|include|attach|upload|send|pass|forward|print|output"
        rf"|fetch|get)\b[^.\n]{{0,40}}?{_CREDENTIAL_FILES}",
    ),
    Rule(
        "agent.hide_from_user",
        ThreatKind.AGENT_INSTRUCTION,
        0.25,
        r"\b(?:do\s+not|don'?t|never|without)\s+(?:ever\s+)?(?:mention(?:ing)?|tell(?:ing)?"
        r"|inform(?:ing)?|notify(?:ing)?|alert(?:ing)?|let(?:ting)?)\b[^.\n]{0,80}?\b(?:the\s+)?"
        r"users?\b|\b(?:could|would|might|will|may)\s+upset\s+the\s+user\b",
    ),
    Rule(
        "agent.important_tag",
        ThreatKind.AGENT_INSTRUCTION,
        0.15,
        r"<\s*/?\s*important\s*>",
    ),
)

_EXFILTRATION_RULES = (
    Rule(
        "exfiltration.sensitive_to_destination",
        ThreatKind.EXFILTRATION_INSTRUCTION,
        0.6,
        r"\b(?:send|forward|e-?mail|post|upload|transfer|share|leak|exfiltrate|submit)\b"
        rf"[^\n]{{0,80}}?{_SENSITIVE}\b[^\n]{{0,80}}?\b(?:to|at|on)\s+(?:the\s+)?(?:\w+\s+)?"
        rf"{_DESTINATION}",
    ),
    Rule(
        "exfiltration.image_with_data",
        ThreatKind.EXFILTRATION_INSTRUCTION,
        0.7,
        r"!\[[^\]\n]{0,80}\]\(\s*https?://[^)\s]{0,200}(?:\{|\$|%7b|<|\[)",
    ),
    Rule(
        "exfiltration.render_image",
        ThreatKind.EXFILTRATION_INSTRUCTION,
        0.5,
        r"\b(?:render|include|display|output|append|add|print|embed)\b[^.\n]{0,40}\b(?:markdown\s+)?"
        r"image\b[^.\n]{0,80}https?://[^\s]{0,100}(?:\?|=)",
    ),
)

RULES: tuple[Rule, ...] = (
    *_OVERRIDE_RULES,
    *_JAILBREAK_RULES,
    *_EXTRACTION_RULES,
    *_ROLE_RULES,
    *_AGENT_RULES,
    *_POISONING_RULES,
    *_EXFILTRATION_RULES,
)
