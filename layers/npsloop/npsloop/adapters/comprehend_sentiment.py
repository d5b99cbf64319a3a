"""Amazon Comprehend: DetectSentiment in batches (BatchDetectSentiment: at most 25 texts of at most 5 KB each,
all in one language; Comprehend reads only a text's first 500 characters for sentiment). It has no Polish."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from npsloop.ports.text import SentimentDetector, SentimentServiceFailed

BATCH = 25
MAX_BYTES = 5000


def _fit(text: str) -> str:
    """The text cut to Comprehend's 5 KB at a character boundary."""
    data = text.encode("utf-8")[:MAX_BYTES]
    return data.decode("utf-8", errors="ignore") or "."


class ComprehendSentiment(SentimentDetector):
    def __init__(self, client: Any | None = None) -> None:
        self._client = client or boto3.client("comprehend")

    def detect(self, texts: Sequence[str], language: str) -> list[str | None]:
        out: list[str | None] = []
        for start in range(0, len(texts), BATCH):
            batch = [_fit(t) for t in texts[start : start + BATCH]]
            try:
                result = self._client.batch_detect_sentiment(TextList=batch, LanguageCode=language)
            except (ClientError, BotoCoreError) as exc:
                code = exc.response["Error"]["Code"] if isinstance(exc, ClientError) else type(exc).__name__
                raise SentimentServiceFailed(f"comprehend batch_detect_sentiment: {code}") from exc
            answers: list[str | None] = [None] * len(batch)
            for item in result.get("ResultList", []):
                answers[int(item["Index"])] = str(item["Sentiment"]).lower()
            out.extend(answers)  # ErrorList entries stay None: the caller falls back for those texts
        return out
