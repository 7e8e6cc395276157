"""`enrichment`: categorises bank transactions and extracts a normalised merchant name."""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, field_validator

from joblane.worker.context import JobContext

UNCATEGORISED = "uncategorised"
# Keywords of these categories name the kind of payment ("SALARY"), not the merchant ("CAFE").
PAYMENT_KINDS = frozenset({"income", "transfers", "fees", "cash"})
BRAND_CONFIDENCE = 0.95
KEYWORD_CONFIDENCE = 0.75


@dataclass(frozen=True, slots=True)
class Rule:
    category: str
    keywords: tuple[str, ...]
    merchant: str | None = None  # None: a generic keyword; the merchant comes from the text


RULES: tuple[Rule, ...] = (
    Rule("groceries", ("TESCO",), "Tesco"),
    Rule("groceries", ("SAINSBURY", "SAINSBURYS"), "Sainsbury's"),
    Rule("groceries", ("ASDA",), "Asda"),
    Rule("groceries", ("LIDL",), "Lidl"),
    Rule("groceries", ("ALDI",), "Aldi"),
    Rule("groceries", ("WAITROSE",), "Waitrose"),
    Rule("groceries", ("WHOLE FOODS", "WHOLEFDS"), "Whole Foods"),
    Rule("groceries", ("KROGER",), "Kroger"),
    Rule("groceries", ("M&S", "MARKS & SPENCER", "MARKS AND SPENCER"), "Marks & Spencer"),
    Rule("groceries", ("SUPERMARKET", "GROCERY", "GROCERIES"), None),
    Rule("restaurants", ("MCDONALDS", "MCDONALD S"), "McDonald's"),
    Rule("restaurants", ("STARBUCKS",), "Starbucks"),
    Rule("restaurants", ("PRET",), "Pret A Manger"),
    Rule("restaurants", ("NANDOS",), "Nando's"),
    Rule("restaurants", ("DELIVEROO",), "Deliveroo"),
    Rule("restaurants", ("UBER EATS", "UBEREATS"), "Uber Eats"),
    Rule("restaurants", ("JUST EAT",), "Just Eat"),
    Rule("restaurants", ("RESTAURANT", "CAFE", "COFFEE", "PIZZA", "BAR", "PUB"), None),
    Rule("transport", ("UBER",), "Uber"),
    Rule("transport", ("LYFT",), "Lyft"),
    Rule("transport", ("TFL", "TRANSPORT FOR LONDON"), "Transport for London"),
    Rule("transport", ("TRAINLINE",), "Trainline"),
    Rule("transport", ("SHELL",), "Shell"),
    Rule("transport", ("BP",), "BP"),
    Rule("transport", ("ESSO",), "Esso"),
    Rule("transport", ("PARKING", "TAXI", "RAILWAY", "FUEL", "PETROL"), None),
    Rule("utilities", ("BRITISH GAS",), "British Gas"),
    Rule("utilities", ("EDF",), "EDF Energy"),
    Rule("utilities", ("OCTOPUS ENERGY",), "Octopus Energy"),
    Rule("utilities", ("THAMES WATER",), "Thames Water"),
    Rule("utilities", ("VODAFONE",), "Vodafone"),
    Rule("utilities", ("COUNCIL TAX", "ELECTRICITY", "WATER", "BROADBAND", "ENERGY"), None),
    Rule("subscriptions", ("NETFLIX",), "Netflix"),
    Rule("subscriptions", ("SPOTIFY",), "Spotify"),
    Rule("subscriptions", ("DISNEY PLUS", "DISNEYPLUS"), "Disney+"),
    Rule("subscriptions", ("APPLE COM BILL", "ITUNES"), "Apple"),
    Rule("subscriptions", ("PRIME VIDEO", "AMAZON PRIME"), "Amazon Prime"),
    Rule("subscriptions", ("SUBSCRIPTION", "MEMBERSHIP"), None),
    Rule("travel", ("RYANAIR",), "Ryanair"),
    Rule("travel", ("EASYJET",), "easyJet"),
    Rule("travel", ("BRITISH AIRWAYS",), "British Airways"),
    Rule("travel", ("AIRBNB",), "Airbnb"),
    Rule("travel", ("BOOKING COM",), "Booking.com"),
    Rule("travel", ("HOTEL", "AIRLINES", "AIRWAYS"), None),
    Rule("shopping", ("AMAZON", "AMZN"), "Amazon"),
    Rule("shopping", ("EBAY",), "eBay"),
    Rule("shopping", ("IKEA",), "IKEA"),
    Rule("shopping", ("ARGOS",), "Argos"),
    Rule("shopping", ("PRIMARK",), "Primark"),
    Rule("income", ("SALARY", "PAYROLL", "WAGES", "DIVIDEND", "INTEREST PAID", "REFUND"), None),
    Rule("transfers", ("TRANSFER", "TFR", "STANDING ORDER", "FASTER PAYMENT"), None),
    Rule("transfers", ("PAYPAL",), "PayPal"),
    Rule("transfers", ("REVOLUT",), "Revolut"),
    Rule("fees", ("OVERDRAFT", "FEE", "FEES", "CHARGE", "INTEREST CHARGED"), None),
    Rule("cash", ("ATM", "CASH WITHDRAWAL", "CASHPOINT"), None),
)
# Words banks put around the merchant that are not part of its name (months: "SALARY MAR").
NOISE_WORDS = frozenset(
    {"POS", "CARD", "PAYMENT", "PAYMENTS", "TO", "FROM", "DD", "SO", "VIS", "VISA", "DEBIT"}
    | {"CREDIT", "CONTACTLESS", "PURCHASE", "ONLINE", "BGC", "FPI", "FPO", "CHQ", "REF"}
    | {"DIRECT", "SQ", "TST", "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP"}
    | {"OCT", "NOV", "DEC"}
)
MAX_MERCHANT_WORDS = 3


class Transaction(BaseModel):
    model_config = ConfigDict(coerce_numbers_to_str=True)

    id: str = Field(min_length=1, max_length=200)
    description: str = Field(max_length=1000)
    amount: float = Field(allow_inf_nan=False, description="Negative for money going out.")
    date: dt.date | None = None


class EnrichmentInput(BaseModel):
    transactions: list[Transaction] = Field(min_length=1, max_length=100_000)

    @field_validator("transactions")
    @classmethod
    def _unique_ids(cls, transactions: list[Transaction]) -> list[Transaction]:
        counts = Counter(t.id for t in transactions)
        repeated = sorted(id_ for id_, count in counts.items() if count > 1)
        if repeated:
            raise ValueError(f"transaction ids must be unique; repeated: {repeated[:5]}")
        return transactions


class EnrichedTransaction(BaseModel):
    id: str
    merchant: str | None
    category: str
    confidence: float
    amount: float


class FailedTransaction(BaseModel):
    id: str
    reason: str


class CategoryTotal(BaseModel):
    count: int
    amount: float


class EnrichmentSummary(BaseModel):
    total: int
    categorised: int
    uncategorised: int
    failed: int
    by_category: dict[str, CategoryTotal]


class EnrichmentOutput(BaseModel):
    transactions: list[EnrichedTransaction]
    failed: list[FailedTransaction]
    summary: EnrichmentSummary


def enrichment(inp: EnrichmentInput, ctx: JobContext) -> EnrichmentOutput:
    """Categorise bank transactions (groceries, transport, ...) and name their merchants."""
    total = len(inp.transactions)
    enriched: list[EnrichedTransaction] = []
    failed: list[FailedTransaction] = []
    ctx.progress(processed=0, total=total, failed=0)
    for index, transaction in enumerate(inp.transactions, start=1):
        ctx.check_cancelled()
        outcome = enrich_one(transaction)
        if isinstance(outcome, FailedTransaction):
            failed.append(outcome)
        else:
            enriched.append(outcome)
        ctx.progress(processed=index, failed=len(failed))
    summary = summarise(enriched, total)
    ctx.progress(message=f"categorised {summary.categorised} of {total} transactions")
    return EnrichmentOutput(transactions=enriched, failed=failed, summary=summary)


def enrich_one(transaction: Transaction) -> EnrichedTransaction | FailedTransaction:
    """One transaction: categorised, or failed when its description has no usable words."""
    words = _words(transaction.description)
    if any(_is_name_word(word) for word in words):
        return categorise(transaction, words)
    return FailedTransaction(id=transaction.id, reason=_why_unusable(transaction))


def categorise(transaction: Transaction, words: list[str]) -> EnrichedTransaction:
    text = f" {_fold(' '.join(words))} "
    matches = [(rule, kw) for rule in RULES for kw in rule.keywords if f" {kw} " in text]
    if not matches:
        return _enriched(transaction, _merchant_from(words), UNCATEGORISED, 0.0)
    # The longest keyword is the most specific: "UBER EATS" beats "UBER".
    rule, keyword = max(matches, key=lambda match: len(match[1]))
    if rule.category in PAYMENT_KINDS:
        words = [word for word in words if _fold(word) not in keyword.split()]
    merchant = rule.merchant or _merchant_from(words)
    confidence = BRAND_CONFIDENCE if rule.merchant else KEYWORD_CONFIDENCE
    return _enriched(transaction, merchant, rule.category, confidence)


def _enriched(
    transaction: Transaction, merchant: str | None, category: str, confidence: float
) -> EnrichedTransaction:
    return EnrichedTransaction(
        id=transaction.id,
        merchant=merchant,
        category=category,
        confidence=confidence,
        amount=transaction.amount,
    )


def _words(description: str) -> list[str]:
    """Upper-case words: "Card Payment to TESCO-STORES 3012*" -> [CARD, PAYMENT, TO, TESCO, ...]."""
    return re.sub(r"[^\w&]+|_+", " ", description.upper().replace("'", "")).split()


def _fold(text: str) -> str:
    """Without accents, so that "CAFÉ" matches the keyword "CAFE"."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _merchant_from(words: list[str]) -> str | None:
    """The first few meaningful words: no bank noise, no store numbers or references."""
    name = [w for w in words if w not in NOISE_WORDS and _is_name_word(w)][:MAX_MERCHANT_WORDS]
    return " ".join(word.capitalize() for word in name) or None


def _is_name_word(word: str) -> bool:
    return any(c.isalpha() for c in word) and not any(c.isdigit() for c in word)


def _why_unusable(transaction: Transaction) -> str:
    if not transaction.description.strip():
        return "description is empty"
    return "description has no words to categorise by"


def summarise(enriched: list[EnrichedTransaction], total: int) -> EnrichmentSummary:
    by_category: dict[str, list[float]] = {}
    for item in enriched:
        by_category.setdefault(item.category, []).append(item.amount)
    uncategorised = len(by_category.get(UNCATEGORISED, []))
    return EnrichmentSummary(
        total=total,
        categorised=len(enriched) - uncategorised,
        uncategorised=uncategorised,
        failed=total - len(enriched),
        by_category={
            category: CategoryTotal(count=len(amounts), amount=round(math.fsum(amounts), 2))
            for category, amounts in sorted(by_category.items())
        },
    )
