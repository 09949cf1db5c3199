"""Enums whose members carry a translated label for the UI (indico's RichEnum idea)."""
import enum


class LabelledEnum(str, enum.Enum):
    """A string enum; subclasses define ``_labels()`` returning {value: lazy translation}.

    The label is a property named ``label`` (not ``title``, which ``str`` already has).
    """

    @classmethod
    def _labels(cls):
        raise NotImplementedError(f"{cls.__name__} must define _labels()")

    @property
    def label(self):
        return self._labels()[self.value]

    @classmethod
    def choices(cls):
        return [(m.value, m.label) for m in cls]

    def __str__(self):
        return self.value
