"""Sphinx extension: emit each <script> of a page once.

Under Sphinx 7, sphinx-thebe (loaded by Jupyter Book) registers its inline
configuration script twice, so every page declared ``const THEBE_JS_URL``
twice: a SyntaxError in the browser console. The headless-Chromium test of
``make check-html`` caught it; this hook removes exact duplicates.
"""


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    if "script_files" not in context:
        return
    seen, unique = set(), []
    for js in list(context["script_files"]):
        attributes = getattr(js, "attributes", {}) or {}
        # same file (None and "" both mean inline) and attributes, whatever the priority
        key = (getattr(js, "filename", str(js)) or "", tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    context["script_files"][:] = unique  # in place: later handlers add to the same list


def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
