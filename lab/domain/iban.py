"""IBANs (ISO 13616) and currency codes (ISO 4217): shapes and the mod-97 check digits.

Hand-written rather than a dependency: the check is ISO 7064 MOD 97-10, three lines of
arithmetic the standard spells out, and the lab needs no bank registry (schwifty's job).
The currency list is data (ISO 4217 active codes), read by payment validation only.
"""

from __future__ import annotations

import re

# ISO 13616: two letters (country), two check digits, up to 30 alphanumerics (the BBAN).
SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}")

_CODES = """
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR
KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK
MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR
SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS
UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
"""
ISO_4217 = frozenset(_CODES.split())


def normalise(text: str) -> str:
    """As people write it (groups of four, lower case) → the electronic form."""
    return text.replace(" ", "").upper()


def _as_number(text: str) -> int:
    # ISO 13616 §6.1: letters become two digits, A = 10 … Z = 35.
    return int("".join(str(int(ch, 36)) for ch in text))


def valid(iban: str) -> bool:
    """Shape, and ISO 7064 MOD 97-10: the country and check digits moved to the end, the
    number modulo 97 is 1."""
    return bool(SHAPE.fullmatch(iban)) and _as_number(iban[4:] + iban[:4]) % 97 == 1


def make(country: str, bban: str) -> str:
    """The IBAN for a BBAN: check digits = 98 − (BBAN + country + "00") mod 97."""
    check = 98 - _as_number(bban + country + "00") % 97
    return f"{country}{check:02d}{bban}"


def currency_known(code: str) -> bool:
    return code in ISO_4217
