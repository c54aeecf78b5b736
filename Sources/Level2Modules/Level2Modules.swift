// Level2Modules — filled by its own issue (see README). Placeholder so the target builds.
enum Level2ModulesPlaceholder {}
