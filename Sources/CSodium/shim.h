#ifndef CSODIUM_SHIM_H
#define CSODIUM_SHIM_H
#include <sodium.h>
// Macros Swift does not import as constants.
static const int CSODIUM_ALG_ARGON2ID13 = crypto_pwhash_ALG_ARGON2ID13;
static const size_t CSODIUM_PWHASH_STRBYTES = crypto_pwhash_STRBYTES;
#endif
