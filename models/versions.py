"""Versions of a CV: building one from the changes a user chose, and the differences between two. No I/O.

A change is applied by path: the value at `path` becomes `after`. Paths of an improvement's changes point
into its rewritten CV, whose skills (say) may be in another order than the original's; when the text at the
path is not `before`, the same kind of place holding `before` is used (the nearest one), so a wording change
still lands on its text when the reordering that preceded it was not chosen. Order changes (`sections/order`,
`skills`, `skills/N/keywords`) run first, as the engines made them first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, JsonValue, ValidationError

from models.edit_paths import ORDERABLE_SECTIONS, SECTIONS_ORDER_PATH, SKILLS_ORDER_PATH, is_order_path, normalize_path
from models.improvement import Change
from models.resume import Resume

JsonObject = dict[str, JsonValue]

ORDER_SEPARATOR = ", "
SECTION_ORDER_KEY = "sectionOrder"  # in the document's `meta`, where JSON Resume keeps tooling configuration
_SPACES_RE = re.compile(r"\s+")


class VersionSource(StrEnum):
    ORIGINAL = "original"
    IMPROVEMENT = "improvement"
    APPLIED = "applied"
    RESTORED = "restored"


class Difference(BaseModel):
    """One place where two versions differ; a value absent from a version is null."""

    model_config = ConfigDict(frozen=True)

    path: str
    before: JsonValue = None
    after: JsonValue = None


class ChangeNotApplicable(Exception):
    """A chosen change cannot be applied to the original CV; `reason` completes "it ...", for the user."""

    def __init__(self, change_id: str, path: str, reason: str) -> None:
        super().__init__(f"Change {change_id} to {path} cannot be applied: it {reason}.")
        self.change_id = change_id
        self.path = path
        self.reason = reason


# --- applying changes -------------------------------------------------------------------------------------


def apply_changes(original: Resume, changes: Sequence[Change]) -> Resume:
    """The original CV with exactly these changes made; raises ChangeNotApplicable."""
    doc: JsonObject = original.model_dump(mode="json")
    for change in changes:
        if is_order_path(change.path):
            _apply_order(doc, change)
    removals: dict[tuple[int, int], tuple[list[JsonValue], int]] = {}
    for change in changes:
        if not is_order_path(change.path):
            _apply_text(doc, change, removals)
    # Items emptied by a change leave their list last, from the back, so other indices stay put meanwhile.
    for items, index in sorted(removals.values(), key=lambda r: -r[1]):
        del items[index]
    try:
        return Resume.model_validate(doc)
    except ValidationError as exc:
        error = exc.errors(include_input=False, include_url=False)[0]
        where = "/".join(str(p) for p in error["loc"])
        culprit = next((c for c in changes if where.startswith(normalize_path(c.path))), None)
        raise ChangeNotApplicable(
            culprit.id if culprit else "?", culprit.path if culprit else where, f"makes the CV invalid ({error['msg']})"
        ) from None


def _labels(text: str | None) -> list[str]:
    return [label.strip() for label in text.split(ORDER_SEPARATOR)] if text and text.strip() else []


def _permutation(current: Sequence[str], wanted: Sequence[str]) -> list[int] | None:
    """Indices of `current` in the order `wanted` names them, or None when they are not the same items."""
    if len(current) != len(wanted):
        return None
    used: set[int] = set()
    order: list[int] = []
    for label in wanted:
        index = next((i for i, c in enumerate(current) if i not in used and _same_text(c, label)), None)
        if index is None:
            return None
        used.add(index)
        order.append(index)
    return order


def _skill_label(skill: JsonValue) -> str:
    name = skill.get("name") if isinstance(skill, dict) else None
    return name if isinstance(name, str) and name.strip() else "?"


def _apply_order(doc: JsonObject, change: Change) -> None:
    path = normalize_path(change.path)
    wanted = _labels(change.after)
    if path == SECTIONS_ORDER_PATH:
        unknown = [name for name in wanted if name not in ORDERABLE_SECTIONS]
        if not wanted or unknown or len(set(wanted)) != len(wanted):
            raise ChangeNotApplicable(change.id, change.path, "does not name each section once")
        meta = doc.get("meta")
        meta = meta if isinstance(meta, dict) else {}
        names: list[JsonValue] = list(wanted)
        meta[SECTION_ORDER_KEY] = names
        doc["meta"] = meta
        return
    skills = doc.get("skills")
    if not isinstance(skills, list):
        raise ChangeNotApplicable(change.id, change.path, "reorders skills the CV does not have")
    if path == SKILLS_ORDER_PATH:
        order = _permutation([_skill_label(s) for s in skills], wanted)
        if order is None:
            raise ChangeNotApplicable(change.id, change.path, "names other skill groups than the CV has")
        doc["skills"] = [skills[i] for i in order]
        return
    found = _keyword_group(skills, int(path.split("/")[1]), change.before)
    if found is None:
        raise ChangeNotApplicable(change.id, change.path, "reorders keywords the CV does not list")
    group, keywords = found
    permutation = _permutation([str(k) for k in keywords], wanted)
    if permutation is None:
        raise ChangeNotApplicable(change.id, change.path, "names other keywords than the group has")
    group["keywords"] = [keywords[i] for i in permutation]


def _keyword_group(
    skills: list[JsonValue], index: int, before: str | None
) -> tuple[JsonObject, list[JsonValue]] | None:
    """The skill group whose keywords read `before`, with them: the one at `index` if it does, else the nearest."""
    matching: list[tuple[int, int, JsonObject, list[JsonValue]]] = []
    for i, skill in enumerate(skills):
        keywords = skill.get("keywords") if isinstance(skill, dict) else None
        joined = ORDER_SEPARATOR.join(str(k) for k in keywords) if isinstance(keywords, list) else None
        if isinstance(skill, dict) and isinstance(keywords, list) and _same_text(joined, before):
            matching.append((abs(i - index), i, skill, keywords))
    if not matching:
        return None
    _, _, group, keywords = min(matching, key=lambda m: m[:2])
    return group, keywords


def _apply_text(doc: JsonObject, change: Change, removals: dict[tuple[int, int], tuple[list[JsonValue], int]]) -> None:
    segments = normalize_path(change.path).split("/")
    place = _locate(doc, segments, change.before)
    if place is None:
        raise ChangeNotApplicable(change.id, change.path, "points to a place the CV does not have")
    container, key = place
    after = change.after if change.after is None or change.after.strip() else None
    if isinstance(container, list):
        index = int(key)
        if after is None:
            if index < len(container):
                removals[(id(container), index)] = (container, index)
        elif index == len(container):
            container.append(after)
        else:
            container[index] = after
    else:
        container[key] = after


_Place = tuple[JsonObject | list[JsonValue], str]


def _parent(doc: JsonValue, segments: Sequence[str]) -> _Place | None:
    """The container holding the last segment, and its key, when every step exists."""
    node = doc
    for segment in segments[:-1]:
        if isinstance(node, dict):
            node = node.get(segment)
        elif isinstance(node, list) and segment.isdigit() and int(segment) < len(node):
            node = node[int(segment)]
        else:
            return None
    last = segments[-1]
    if isinstance(node, dict):
        return node, last
    if isinstance(node, list) and last.isdigit() and int(last) <= len(node):
        return node, last
    return None


def _value(place: _Place) -> JsonValue:
    container, key = place
    if isinstance(container, dict):
        return container.get(key)
    index = int(key)
    return container[index] if index < len(container) else None


def _candidates(
    node: JsonValue, segments: Sequence[str], at: tuple[int, ...] = ()
) -> list[tuple[tuple[int, ...], _Place]]:
    """Every place matching the path with any index at its numeric segments, with those indices."""
    if len(segments) == 1:
        last = segments[0]
        if isinstance(node, dict) and not last.isdigit():
            return [(at, (node, last))]
        if isinstance(node, list) and last.isdigit():
            return [((*at, i), (node, str(i))) for i in range(len(node))]
        return []
    head, rest = segments[0], segments[1:]
    if isinstance(node, dict) and not head.isdigit():
        return _candidates(node.get(head), rest, at)
    if isinstance(node, list) and head.isdigit():
        return [c for i, item in enumerate(node) for c in _candidates(item, rest, (*at, i))]
    return []


def _locate(doc: JsonObject, segments: Sequence[str], before: str | None) -> _Place | None:
    direct = _parent(doc, segments)
    if direct is not None and _same_text(_value(direct), before):
        return direct
    if before is not None and before.strip():
        wanted = tuple(int(s) for s in segments if s.isdigit())
        found = [
            (sum(abs(a - b) for a, b in zip(indices, wanted, strict=True)), indices, place)
            for indices, place in _candidates(doc, segments)
            if _same_text(_value(place), before)
        ]
        if found:
            return min(found, key=lambda f: f[:2])[2]
    # The path is the engine's word for where the text goes; `before` only helps to find it.
    return direct


def _same_text(value: JsonValue, text: str | None) -> bool:
    if value is None or isinstance(value, str):
        return _SPACES_RE.sub(" ", value or "").strip() == _SPACES_RE.sub(" ", text or "").strip()
    return False


# --- differences ------------------------------------------------------------------------------------------


def _prune(value: JsonValue) -> JsonValue:
    """Blank values (null, "", [], {}) are absent: a version that never had a field does not differ by it."""
    if isinstance(value, dict):
        pruned = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def _merged_keys(first: list[str], second: list[str]) -> list[str]:
    """Both key lists in one, each key of `second` missing from `first` placed after its predecessor there."""
    keys = list(first)
    for i, key in enumerate(second):
        if key not in keys:
            previous = next((k for k in reversed(second[:i]) if k in keys), None)
            keys.insert(keys.index(previous) + 1 if previous is not None else 0, key)
    return keys


def _differences(before: JsonValue, after: JsonValue, path: str) -> list[Difference]:
    def at(key: str | int) -> str:
        return f"{path}/{key}" if path else str(key)

    if isinstance(before, dict) and isinstance(after, dict):
        keys = _merged_keys(list(before), list(after))
        return [d for k in keys for d in _differences(before.get(k), after.get(k), at(k))]
    # A list that appears or disappears is compared item by item: an added section lists its entries.
    if isinstance(before, list) and after is None:
        after = []
    elif isinstance(after, list) and before is None:
        before = []
    if isinstance(before, list) and isinstance(after, list):
        return [
            d
            for i in range(max(len(before), len(after)))
            for d in _differences(before[i] if i < len(before) else None, after[i] if i < len(after) else None, at(i))
        ]
    return [] if before == after else [Difference(path=path, before=before, after=after)]


def diff_documents(before: Mapping[str, JsonValue], after: Mapping[str, JsonValue]) -> list[Difference]:
    """Path-level differences between two JSON Resume documents, in reading order: a field
    that changed, an item added or removed (by position), a whole entry added or removed."""
    # Through the model: keys in JSON Resume's order, whatever order storage gave them.
    first = Resume.model_validate(before).model_dump(mode="json")
    second = Resume.model_validate(after).model_dump(mode="json")
    return _differences(_prune(first), _prune(second), "")
