"""Read an 835 file into records, checking everything on the way.

The tokenizer hands over batches of segment texts; each text is split on the element
separator and dispatched on its segment id (a dict lookup) to the envelope, payment
or claim readers. Records go to a :class:`RemittanceSink` as soon as they are
complete, until the first fault that rejects the file; reading then goes on, without
handing out records, so that every fault is listed (up to
:data:`~reconcile.ingest.MAX_PROBLEMS`).

Segments that reconciliation does not need (PER, NM1*GB, unknown ids) are skipped;
they still count in SE01.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from reconcile.ingest.outcome import FileRejected, Problem, stopped
from reconcile.ingest.x12.claims import ClaimReader
from reconcile.ingest.x12.envelope import Envelope
from reconcile.ingest.x12.payments import PaymentReader, RemittanceSink
from reconcile.ingest.x12.problems import ProblemLog, TooManyProblems
from reconcile.ingest.x12.tokenizer import CHUNK_SIZE, Tokenizer, X12SyntaxError

Handler = Callable[[list[str], int], None]


@dataclass(frozen=True)
class ReadResult:
    """What reading a file that does not reject found besides its records."""

    #: Missing or invalid metadata with a safe fallback (the file still loads).
    warnings: list[Problem]
    #: Balancing faults let through because unbalanced files were allowed.
    unbalanced: list[Problem]
    #: Transaction sets (ST…SE) in the file.
    transactions: int


def read_remittance(
    stream: BinaryIO,
    *,
    sink: RemittanceSink,
    allow_unbalanced: bool = False,
    chunk_size: int = CHUNK_SIZE,
) -> ReadResult:
    """Read the 835 in ``stream``, handing its records to ``sink``.

    With ``allow_unbalanced``, balancing faults do not reject the file; they are
    returned (and attached to their payments' :class:`PaymentEnd`).

    Raises:
        FileRejected: with every fault found, when anything rejects the file. The
            sink may have received records before the first fault was found.
    """
    reader = _Reader(sink=sink, allow_unbalanced=allow_unbalanced)
    return reader.run(stream, chunk_size=chunk_size)


class _Reader:
    def __init__(self, *, sink: RemittanceSink, allow_unbalanced: bool) -> None:
        self.log = ProblemLog(allow_unbalanced=allow_unbalanced)
        self.envelope = Envelope(self.log)
        self.payment = PaymentReader(log=self.log, sink=sink)
        self.claims = ClaimReader(log=self.log)
        self.component = ":"
        claims, payment = self.claims, self.payment
        claims.header_ref = self._header_ref
        claims.header_dtm = self._header_dtm
        self.handlers: dict[str, Handler] = {
            "ISA": self._isa,
            "GS": self._gs,
            "ST": self._st,
            "SE": self._se,
            "GE": self._ge,
            "IEA": self._iea,
            "BPR": self._header(payment.bpr),
            "TRN": self._header(payment.trn),
            "CUR": self._header(payment.cur),
            "N1": self._header(payment.n1),
            "N3": self._header(payment.party_detail),
            "N4": self._header(payment.party_detail),
            "PER": self._skip,
            "RDM": self._header(payment.party_detail),
            "REF": claims.ref,
            "DTM": claims.dtm,
            "LX": self._lx,
            "TS3": self._summary,
            "TS2": self._summary,
            "CLP": self._clp,
            "CAS": claims.cas,
            "NM1": claims.nm1,
            "MIA": claims.moa_mia,
            "MOA": claims.moa_mia,
            "AMT": claims.amt,
            "QTY": claims.qty,
            "SVC": claims.svc,
            "LQ": claims.lq,
            "PLB": self._plb,
        }

    # ---------------------------------------------------------------- the loop

    def run(self, stream: BinaryIO, *, chunk_size: int) -> ReadResult:
        tokenizer = Tokenizer(stream, chunk_size=chunk_size)
        handlers = self.handlers
        number = 0
        log = self.log
        try:
            try:
                for delimiters, texts in tokenizer.batches():
                    separator = delimiters.element
                    self.component = self.claims.component = delimiters.component
                    for text in texts:
                        if not text:
                            continue
                        number += 1
                        elements = text.split(separator)
                        handler = handlers.get(elements[0])
                        if handler is None:
                            stripped = text.strip()
                            if not stripped:
                                number -= 1
                                continue
                            elements = stripped.split(separator)
                            handler = handlers.get(elements[0], self._unknown)
                        handler(elements, number)
            except X12SyntaxError as error:
                log.reject(number + 1, None, error.reason)
            self._finish(number, tokenizer)
        except TooManyProblems:
            log.problems.append(stopped(log.limit))
        if log.problems:
            raise FileRejected(log.problems)
        return ReadResult(
            warnings=log.warnings,
            unbalanced=log.unbalanced,
            transactions=self.envelope.transactions_in_file,
        )

    def _finish(self, number: int, tokenizer: Tokenizer) -> None:
        log = self.log
        if number == 0:
            if not log.problems:
                log.reject(None, None, "the file is empty")
            return
        self._drop_payment()
        self.envelope.finish(number)
        if self.envelope.transactions_in_file == 0:
            log.reject(None, None, "the file holds no 835 transaction set (ST…SE)")
        if tokenizer.latin1_from is not None:
            log.warn(
                None,
                None,
                f"the file is not UTF-8 from byte {tokenizer.latin1_from} on; "
                "read as Latin-1",
            )
        log.finish()

    # ------------------------------------------------------------- envelopes

    def _close_claim(self) -> None:
        claim = self.claims.close()
        if claim is not None:
            self.payment.add_claim(claim)

    def _drop_payment(self) -> None:
        """Forget a payment whose envelope broke (the envelope reports why)."""
        if self.payment.open:
            self.claims.close()
            self.payment.abandon()

    def _isa(self, elements: list[str], number: int) -> None:
        self._drop_payment()
        self.envelope.isa(elements, number)

    def _gs(self, elements: list[str], number: int) -> None:
        self._drop_payment()
        self.envelope.gs(elements, number)

    def _st(self, elements: list[str], number: int) -> None:
        self._drop_payment()
        context = self.envelope.st(elements, number)
        self.payment.start(context)

    def _se(self, elements: list[str], number: int) -> None:
        if self.payment.open:
            self._close_claim()
        if self.envelope.se(elements, number) and self.payment.open:
            self.payment.finish(number)

    def _ge(self, elements: list[str], number: int) -> None:
        self._drop_payment()
        self.envelope.ge(elements, number)

    def _iea(self, elements: list[str], number: int) -> None:
        self._drop_payment()
        self.envelope.iea(elements, number)

    # ------------------------------------------------------- payment segments

    def _outside(self, segment_id: str, number: int) -> bool:
        if self.payment.open:
            return False
        self.log.reject(
            number, segment_id, f"{segment_id} outside a transaction set (ST…SE)"
        )
        return True

    def _header(self, read: Handler) -> Handler:
        def handle(elements: list[str], number: int) -> None:
            if self._outside(elements[0], number):
                return
            if self.payment.header_done:
                self.log.reject(
                    number, elements[0], f"{elements[0]} must come before the claims"
                )
                return
            read(elements, number)

        return handle

    def _header_ref(self, elements: list[str], number: int) -> None:
        if not self._outside("REF", number):
            self.payment.ref(elements, number)

    def _header_dtm(self, elements: list[str], number: int) -> None:
        if not self._outside("DTM", number):
            self.payment.dtm(elements, number)

    def _lx(self, elements: list[str], number: int) -> None:
        if self._outside("LX", number):
            return
        self._close_claim()
        self.payment.lx(elements, number)

    def _summary(self, elements: list[str], number: int) -> None:
        if self._outside(elements[0], number):
            return
        if self.claims.claim is not None:
            self.log.reject(
                number, elements[0], f"{elements[0]} must come before the LX's claims"
            )
            return
        self.payment.summary(elements, number)

    def _clp(self, elements: list[str], number: int) -> None:
        payment = self.payment
        if self._outside("CLP", number):
            return
        if not payment.header_done:
            payment.end_header(number, "CLP")
        if payment.in_footer:
            self.log.reject(number, "CLP", "claims must come before the PLB segments")
        self._close_claim()
        self.claims.clp(elements, number, payment.lx_number)

    def _plb(self, elements: list[str], number: int) -> None:
        if self._outside("PLB", number):
            return
        self._close_claim()
        self.payment.plb(elements, number, self.component)

    def _skip(self, elements: list[str], number: int) -> None:
        """A segment reconciliation does not need."""

    def _unknown(self, elements: list[str], number: int) -> None:
        segment_id = elements[0]
        if not (2 <= len(segment_id) <= 3 and segment_id.isascii()
                and segment_id.isalnum() and segment_id.isupper()):  # fmt: skip
            self.log.reject(
                number,
                None,
                "this is not a segment (a segment starts with a 2-3 character id)",
            )
