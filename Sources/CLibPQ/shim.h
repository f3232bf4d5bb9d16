#ifndef CLIBPQ_SHIM_H
#define CLIBPQ_SHIM_H
#include <libpq-fe.h>
#include <postgres_ext.h>
// Char-literal macros such as PG_DIAG_SQLSTATE ('C') are not imported by Swift: re-export them.
static const int CPQ_DIAG_SQLSTATE = PG_DIAG_SQLSTATE;
static const int CPQ_DIAG_MESSAGE_PRIMARY = PG_DIAG_MESSAGE_PRIMARY;
static const int CPQ_DIAG_MESSAGE_DETAIL = PG_DIAG_MESSAGE_DETAIL;
static const int CPQ_DIAG_MESSAGE_HINT = PG_DIAG_MESSAGE_HINT;
static const int CPQ_DIAG_CONSTRAINT_NAME = PG_DIAG_CONSTRAINT_NAME;
static const int CPQ_DIAG_SCHEMA_NAME = PG_DIAG_SCHEMA_NAME;
static const int CPQ_DIAG_TABLE_NAME = PG_DIAG_TABLE_NAME;
#endif
