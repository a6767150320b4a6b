/*
 * err.c - names and messages of the error table in err.h.
 */
#include <string.h>

#include "sesame/err.h"

const char *ses_err_name(int err)
{
    switch (err) {
#define XX(name, num, msg)                                                                         \
    case num:                                                                                      \
        return #name;
        SES_ERR_MAP(XX)
#undef XX
    case 0:
        return "OK";
    default:
        return "UNKNOWN";
    }
}

const char *ses_err_msg(int err)
{
    switch (err) {
#define XX(name, num, msg)                                                                         \
    case num:                                                                                      \
        return msg;
        SES_ERR_MAP(XX)
#undef XX
    case 0:
        return "ok";
    default:
        return "unknown error";
    }
}

int ses_err_from_name(const char *name)
{
    if (name == NULL)
        return 0;
#define XX(ename, num, msg)                                                                        \
    if (strcmp(name, #ename) == 0)                                                                 \
        return num;
    SES_ERR_MAP(XX)
#undef XX
    return 0;
}
