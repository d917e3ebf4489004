"""Twitter US Airline negative tweets as theme-evaluation documents (research-use data in ../shared/data).

Documents are the tweets with @handles and URLs removed, as vocmine's PII redaction would leave them:
otherwise the airline handle, not the complaint, drives the clusters. Both pipelines compared in
eval_themes_airline.py get exactly these documents.
"""

from __future__ import annotations

import re

import pandas as pd

from vocmine.models.datasets import shared_data_dir


def clean_tweet(text: str) -> str:
    text = re.sub(r"@\w+", "", text)
    text = re.sub(r"https?://\S+", "", text)
    return re.sub(r"\s+", " ", text).strip()


def load_negative_tweets(split: str = "test") -> pd.DataFrame:
    """Negative tweets with a usable text: row_id, text (cleaned), reason, airline, created_at."""
    frame = pd.read_csv(shared_data_dir() / "twitter_airline_sentiment" / f"{split}.csv")
    frame = frame[frame["airline_sentiment"] == "negative"].copy()
    frame["text"] = frame["text"].astype(str).map(clean_tweet)
    frame = frame[frame["text"].str.len() > 0]
    frame["reason"] = frame["negativereason"].fillna("Can't Tell")
    frame["created_at"] = pd.to_datetime(frame["tweet_created"], format="%d-%m-%Y %H.%M", errors="coerce")
    return frame[["row_id", "text", "reason", "airline", "created_at"]].reset_index(drop=True)
