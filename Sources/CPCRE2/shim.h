#ifndef HERALD_CPCRE2_SHIM_H
#define HERALD_CPCRE2_SHIM_H

// pcre2.h selects its code unit width with this macro; Herald only matches UTF-8 text.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

// The generic pcre2_* names are macros over the _8 functions, which Swift cannot see through, and some
// constants are expressions Swift does not import. These typed wrappers are the whole C surface Herald uses.

typedef pcre2_code_8 herald_pcre2_code;
typedef pcre2_match_data_8 herald_pcre2_match_data;
typedef pcre2_match_context_8 herald_pcre2_match_context;

static const uint32_t HERALD_PCRE2_UTF = PCRE2_UTF;
static const uint32_t HERALD_PCRE2_UCP = PCRE2_UCP;
static const uint32_t HERALD_PCRE2_JIT_COMPLETE = PCRE2_JIT_COMPLETE;
static const int HERALD_PCRE2_ERROR_NOMATCH = PCRE2_ERROR_NOMATCH;
static const int HERALD_PCRE2_ERROR_MATCHLIMIT = PCRE2_ERROR_MATCHLIMIT;
static const int HERALD_PCRE2_ERROR_DEPTHLIMIT = PCRE2_ERROR_DEPTHLIMIT;
static const int HERALD_PCRE2_ERROR_HEAPLIMIT = PCRE2_ERROR_HEAPLIMIT;
static const int HERALD_PCRE2_ERROR_JIT_STACKLIMIT = PCRE2_ERROR_JIT_STACKLIMIT;

/// A match context that bounds the work of one match: `match_limit` calls of the internal match function
/// (honoured by the JIT too) and `depth_limit` nested backtracking points (the interpreter's).
static inline herald_pcre2_match_context *herald_pcre2_match_context_create(uint32_t match_limit,
                                                                           uint32_t depth_limit) {
    pcre2_match_context_8 *context = pcre2_match_context_create_8(NULL);
    if (context != NULL) {
        pcre2_set_match_limit_8(context, match_limit);
        pcre2_set_depth_limit_8(context, depth_limit);
    }
    return context;
}

static inline void herald_pcre2_match_context_free(herald_pcre2_match_context *context) {
    pcre2_match_context_free_8(context);
}

static inline herald_pcre2_code *herald_pcre2_compile(const char *pattern, size_t length, uint32_t options,
                                                      int *error_code, size_t *error_offset) {
    return pcre2_compile_8((PCRE2_SPTR8)pattern, length, options, error_code, error_offset, NULL);
}

static inline int herald_pcre2_jit_compile(herald_pcre2_code *code) {
    return pcre2_jit_compile_8(code, PCRE2_JIT_COMPLETE);
}

static inline void herald_pcre2_code_free(herald_pcre2_code *code) { pcre2_code_free_8(code); }

/// Match data for a yes/no answer: one ovector pair is all Herald reads.
static inline herald_pcre2_match_data *herald_pcre2_match_data_create(void) {
    return pcre2_match_data_create_8(1, NULL);
}

static inline void herald_pcre2_match_data_free(herald_pcre2_match_data *data) { pcre2_match_data_free_8(data); }

/// Runs the pattern over `subject`; returns >= 0 on a match, HERALD_PCRE2_ERROR_NOMATCH or another negative code.
/// Swift strings are always valid UTF-8, so PCRE2's own check of the subject is skipped.
static inline int herald_pcre2_match(const herald_pcre2_code *code, const char *subject, size_t length,
                                     herald_pcre2_match_data *data, herald_pcre2_match_context *context) {
    return pcre2_match_8(code, (PCRE2_SPTR8)subject, length, 0, PCRE2_NO_UTF_CHECK, data, context);
}

/// Writes PCRE2's message for an error code into `buffer`; returns its length or a negative code.
static inline int herald_pcre2_error_message(int error_code, char *buffer, size_t size) {
    return pcre2_get_error_message_8(error_code, (PCRE2_UCHAR8 *)buffer, size);
}

#endif
