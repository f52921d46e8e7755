"""What a colorized file says about itself: that a trained model painted its colours, and which.

A colorized photo looks like a colour photograph; once it leaves the folder it was made in, only
its metadata can say that its colours are a model's estimate. Every result of the ``colorize``
command and the web server carries (unless turned off with ``--no-provenance``):

- the IPTC Digital Source Type ``compositeWithTrainedAlgorithmicMedia`` in an XMP packet (the
  term news agencies and archives read for "a capture changed by a trained model"), with
  ``xmp:CreatorTool`` and a ``dc:description``;
- EXIF/TIFF ``Software`` = ``colorize <version>`` and an ``ImageDescription`` naming the model and
  saying the colours are an estimate. A source's own description (and the software that made it,
  a scanner's say) is kept inside that text, so nothing the user had is lost.

Only text here, no Pillow: :mod:`colorize.photo_files` puts it into each format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from xml.sax.saxutils import escape

#: IPTC NewsCodes: "the digital creation of a composite... using a trained algorithmic model"
#: (here: the photo's own lightness, with colours a trained network inferred).
DIGITAL_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
SOFTWARE = 0x0131
IMAGE_DESCRIPTION = 0x010E
#: Characters XML 1.0 cannot hold even escaped (control characters but tab and line breaks).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@lru_cache(maxsize=1)
def version() -> str:
    """The installed package's version; ``0+unknown`` when run from a tree that is not installed."""
    from importlib import metadata

    try:
        return metadata.version("colorize")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def _clean(text: str) -> str:
    """``text`` on one line, without the characters XML cannot carry."""
    return " ".join(_NOT_XML.sub("", text).split())


@dataclass(frozen=True)
class Provenance:
    """The marks for one result: ``model`` is the human-readable description the command prints
    after ``Model:``, ``hints`` the number of colour hints the user gave."""

    model: str
    hints: int = 0

    @property
    def software(self) -> str:
        return f"colorize {version()}"

    def description(self, original: str | None = None, original_software: str | None = None) -> str:
        """The ``ImageDescription`` / ``dc:description``: what made the colours, that they are
        an estimate, and what the source said about itself (its description and software)."""
        hints = f" ({self.hints} colour hint{'s' if self.hints != 1 else ''})" if self.hints else ""
        text = (f"Colorized by {self.software} with the model {_clean(self.model)}{hints}; the colours are a "
                "model's estimate, not a record of the original colours.")
        if original and _clean(original):
            text += f" Original description: {_clean(original)}"
        if original_software and _clean(original_software) and _clean(original_software) != self.software:
            text += f" (source software: {_clean(original_software)})"
        return text

    def exif_tags(self, original: str | None = None, original_software: str | None = None) -> dict[int, str]:
        """EXIF/TIFF tags to set, replacing the source's (whose text :meth:`description` keeps)."""
        return {SOFTWARE: self.software, IMAGE_DESCRIPTION: self.description(original, original_software)}

    def xmp(self, original: str | None = None, original_software: str | None = None) -> bytes:
        """An XMP packet (UTF-8) with the Digital Source Type, the creator tool and the description."""
        description = escape(self.description(original, original_software))
        return (
            '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
            ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
            '  <rdf:Description rdf:about=""\n'
            '    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"\n'
            '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
            '    xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
            f'   <Iptc4xmpExt:DigitalSourceType>{DIGITAL_SOURCE_TYPE}</Iptc4xmpExt:DigitalSourceType>\n'
            f'   <xmp:CreatorTool>{escape(self.software)}</xmp:CreatorTool>\n'
            f'   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{description}</rdf:li></rdf:Alt>'
            '</dc:description>\n'
            '  </rdf:Description>\n'
            ' </rdf:RDF>\n'
            '</x:xmpmeta>\n'
            '<?xpacket end="w"?>'
        ).encode("utf-8")
