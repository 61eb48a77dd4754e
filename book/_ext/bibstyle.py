"""Author-year labels in the reference list, matching the in-text citations.

sphinxcontrib-bibtex labels entries with pybtex's "alpha" style by default
([SHK+14]) while the text cites "Srivastava et al., 2014". This registers a
formatting style whose labels read like the citations: "Srivastava et al., 2014",
"Gal and Ghahramani, 2016", "Goodfellow et al., 2016".
"""

from pybtex.plugin import register_plugin
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle


def _authors(entry):
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    last = [" ".join(p.last_names) for p in people]
    if not last:
        return entry.fields.get("organization", entry.key)
    if len(last) == 1:
        return last[0]
    if len(last) == 2:
        return f"{last[0]} and {last[1]}"
    return f"{last[0]} et al."


class AuthorYearLabels(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        seen: dict[str, int] = {}
        for entry in sorted_entries:
            label = f"{_authors(entry)}, {entry.fields.get('year', 'n.d.')}"
            seen[label] = seen.get(label, 0) + 1
            yield label if seen[label] == 1 else f"{label}{chr(ord('a') + seen[label] - 1)}"


class AuthorYearStyle(UnsrtStyle):
    default_label_style = "book-author-year"
    default_sorting_style = "author_year_title"


register_plugin("pybtex.style.labels", "book-author-year", AuthorYearLabels)
register_plugin("pybtex.style.formatting", "book-author-year", AuthorYearStyle)


def setup(app):
    return {"parallel_read_safe": True, "parallel_write_safe": True}
