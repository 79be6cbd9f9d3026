// Firewall
