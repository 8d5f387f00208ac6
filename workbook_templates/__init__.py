"""Presentation of the generated workbooks: texts, widths and styles, kept apart from the question bank."""
