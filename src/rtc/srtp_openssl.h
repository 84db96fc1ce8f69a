/* srtp_openssl — libsrtp2's AES-CM, AES-GCM and HMAC-SHA1 on OpenSSL 3, registered in
 * libsrtp's crypto kernel in place of the ones its build came with (NSS on Debian). */
#ifndef PARLEY_SRTP_OPENSSL_H
#define PARLEY_SRTP_OPENSSL_H

/* Replaces the cipher and auth types after srtp_init(). libsrtp runs its own known-answer
 * tests and ours on each replacement; returns 0, or -1 if any of them fails (libsrtp then
 * keeps the types it had, so SRTP still works, only slower). */
int srtp_openssl_install(void);

/* 1 once srtp_openssl_install has replaced every type. */
int srtp_openssl_installed(void);

#endif
