"""The repeated experiments behind each chapter, and the tables and sentences that
summarise them: what a chapter runs for many seeds but does not teach. One
module per chapter topic."""
