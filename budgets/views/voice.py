"""Lines written to the person, read by staff about the person.

Some explanations are written once, in the person's words: the financial assessment's working is
stored as their letter says it ("you pay the full cost of your care", budgets/charging.py), and a
budget's explanation says "Your answers scored 24 points" (budgets/ras.py `explain`). The person
(and on the charging pages someone acting for them) reads them as written; a social worker, team
manager or finance officer reads them about the person, by name. Each pattern is one sentence
those functions write; its replacement is a format string with {name} ("Grace Adeyemi"), {whose}
("Grace Adeyemi's") and the pattern's named groups. tests/ux/test_look_words_staff.py checks that
no line they can write still says "you" once rewritten.
"""

from __future__ import annotations

import re

from accounts.templatetags.words import possessive_text

Patterns = list[tuple[str, str]]

WORKING: Patterns = [
    (r"^You chose not to have a financial assessment, so you pay the full cost of your care\.$",
     "{name} chose not to have a financial assessment, so they pay the full cost of their care."),
    (r"^Your savings and other capital (?P<capital>\(.*\)) are above the upper limit of (?P<limit>.*), "
     r"so you pay the full cost of your care\.$",
     "{whose} savings and other capital {capital} are above the upper limit of {limit}, "
     "so they pay the full cost of their care."),
    (r"\(or part\) of your capital", "(or part) of {whose} capital"),
    (r"^Your capital", "{whose} capital"),
    (r"^Less the Minimum Income Guarantee for your circumstances$",
     "Less the Minimum Income Guarantee for {whose} circumstances"),
    (r"^Nothing is left above what you need to live on, so you pay nothing each week\.$",
     "Nothing is left above what {name} needs to live on, so they pay nothing each week."),
    (r"^Your weekly contribution \(never more than the cost of your care\)$",
     "{whose} weekly contribution (never more than the cost of their care)"),
]  # fmt: skip

BUDGET: Patterns = [
    (r"^Your answers scored ", "{whose} answers scored "),
    (r", so yours is that amount\.$", ", so {whose} budget is that amount."),
]


def about(text: str, name: str, patterns: Patterns) -> str:
    """One line as staff read it: about the person, by name, not "you"."""
    whose = possessive_text(name)
    for pattern, replacement in patterns:
        text = re.sub(pattern, lambda m, r=replacement: r.format(name=name, whose=whose, **m.groupdict()), text)
    return text


def lines_for(lines: list[str], *, is_own: bool, name: str, patterns: Patterns) -> list[str]:
    return lines if is_own else [about(line, name, patterns) for line in lines]
