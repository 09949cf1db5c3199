from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.core.database import UTCDateTime, enum_column_type, utcnow
from tracker.extensions import db
from tracker.units.states import UnitLevel


class Unit(db.Model):
    """A node of the organisation tree.

    ``path`` is the materialised path of ids ("/1/4/17/"): a subtree is one indexed prefix
    match, which keeps scope filters cheap on both databases at a million cases.
    """

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    level: Mapped[UnitLevel] = mapped_column(enum_column_type(UnitLevel, "unit_level"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    path: Mapped[str] = mapped_column(String(255), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at = mapped_column(UTCDateTime, default=utcnow)

    parent: Mapped["Unit | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["Unit"]] = relationship(back_populates="parent", order_by="Unit.code")

    __table_args__ = (Index("ix_units_path", "path"),)

    @property
    def depth(self):
        return self.path.count("/") - 2

    @property
    def ancestor_ids(self):
        return [int(part) for part in self.path.strip("/").split("/")[:-1] if part]

    def __repr__(self):
        return f"<Unit {self.code}>"
