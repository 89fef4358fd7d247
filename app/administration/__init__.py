"""Setting up the programme: partners, customers, products and certifications, by the vendor's admins."""
