import CArgon2
import COpenSSL
public enum AuthCryptoPlaceholder {}
