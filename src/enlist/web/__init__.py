"""What both admin UIs share: accounts, sessions, CSRF, the page shell, static files."""
