"""Per-text analysis: language, sentences, PII redaction, sentiment, emotions, component, touchpoints."""
