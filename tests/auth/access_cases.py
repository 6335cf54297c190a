from tests.access.matrix import Case, everyone

ADMIN_ONLY = {"admin": 200}

CASES = [
    Case("GET", "/api/auth/me", lambda i: "/api/auth/me", everyone(200)),
    Case("POST", "/api/auth/logout", lambda i: "/api/auth/logout", everyone(204)),
    Case(
        "POST",
        "/api/auth/password",
        lambda i: "/api/auth/password",
        everyone(204),
        body=lambda i: {"current_password": "demo", "new_password": "Fresh-pass-2026"},
    ),
    Case("GET", "/api/auth/totp", lambda i: "/api/auth/totp", everyone(200)),
    Case("POST", "/api/auth/totp/setup", lambda i: "/api/auth/totp/setup", everyone(200)),
    Case(
        "POST",
        "/api/auth/totp/activate",
        lambda i: "/api/auth/totp/activate",
        everyone(409),
        body=lambda i: {"code": "123456"},
        note="nothing waiting to be confirmed",
    ),
    Case(
        "POST",
        "/api/auth/totp/disable",
        lambda i: "/api/auth/totp/disable",
        everyone(409),
        body=lambda i: {"password": "demo", "code": "123456"},
        note="no second factor active",
    ),
    Case("GET", "/api/accounts", lambda i: "/api/accounts", ADMIN_ONLY),
    Case(
        "POST",
        "/api/accounts",
        lambda i: "/api/accounts",
        {"admin": 409},
        body=lambda i: {"employee_no": "E0110", "username": "second-login", "password": "Long-enough-1"},
        note="person already has an account",
    ),
    Case(
        "PATCH",
        "/api/accounts/{account_id:int}",
        lambda i: f"/api/accounts/{i.account['E0110']}",
        ADMIN_ONLY,
        body=lambda i: {"active": False},
    ),
    Case(
        "POST",
        "/api/accounts/{account_id:int}/password",
        lambda i: f"/api/accounts/{i.account['E0110']}/password",
        ADMIN_ONLY,
        body=lambda i: {"new_password": "Reset-pass-2026"},
    ),
    Case(
        "POST",
        "/api/accounts/{account_id:int}/second-factor/reset",
        lambda i: f"/api/accounts/{i.account['E0110']}/second-factor/reset",
        {"admin": 409},
        body=lambda i: {"reason": "phone lost"},
        note="that person has no second factor",
    ),
]
