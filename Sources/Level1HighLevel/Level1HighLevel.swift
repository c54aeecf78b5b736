// Level1HighLevel — filled by its own issue (see README). Placeholder so the target builds.
enum Level1HighLevelPlaceholder {}
