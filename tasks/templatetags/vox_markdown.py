"""`{{ text|markdown }}`: a manager's text (instructions, descriptions) as sanitised HTML."""

from django import template

from tasks.markdown import render_markdown

register = template.Library()


@register.filter
def markdown(text):
    return render_markdown(text if isinstance(text, str) else "")
